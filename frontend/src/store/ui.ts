// UI state: the help overlay, and the handler that j/k/Enter/Esc drive in
// the current view.

import { create } from "zustand";
import { useEffect, useRef } from "react";

/** Keys a view can react to. */
export interface ListKeys {
  move?: (delta: 1 | -1) => void;
  open?: () => void;
  close?: () => boolean;
}

interface UIStore {
  help: boolean;
  setHelp: (v: boolean) => void;
  handlers: ListKeys[];
  push: (h: ListKeys) => void;
  remove: (h: ListKeys) => void;
}

/** useUI holds shell-level UI state. */
export const useUI = create<UIStore>((set, get) => ({
  help: false,
  setHelp: (help) => set({ help }),
  handlers: [],
  push: (h) => set({ handlers: [...get().handlers, h] }),
  remove: (h) => set({ handlers: get().handlers.filter((x) => x !== h) }),
}));

/** useListKeys lets the calling view handle j/k/Enter/Esc while it is mounted. */
export function useListKeys(keys: ListKeys): void {
  const ref = useRef(keys);
  useEffect(() => {
    ref.current = keys;
  });
  useEffect(() => {
    const h: ListKeys = {
      move: (d) => ref.current.move?.(d),
      open: () => ref.current.open?.(),
      close: () => ref.current.close?.() ?? false,
    };
    useUI.getState().push(h);
    return () => useUI.getState().remove(h);
  }, []);
}
