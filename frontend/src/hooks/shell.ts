// Shell-wide effects: the one event subscription that feeds the stores,
// review notifications, and the keyboard shortcuts.

import { useEffect, useState } from "react";
import { onStreamState, subscribe, type StreamState } from "../api/client";
import type { FactoryEvent } from "../api/types";
import { nextKey, typingTarget } from "../lib/keys";
import { reviewRequests } from "../lib/runState";
import { href } from "../lib/route";
import { useDriftStore, usePullStore, useRunsStore, useRunStore } from "../store/events";
import { useUI } from "../store/ui";
import { navigate } from "./route";

function notifyReviews(events: FactoryEvent[]) {
  if (typeof Notification === "undefined") return;
  for (const r of reviewRequests(events)) {
    const show = () => {
      try {
        const n = new Notification("Review needed", { body: `Step ${r.step} of run ${r.runId.slice(0, 8)} waits for your review.`, tag: `${r.runId}/${r.step}` });
        n.onclick = () => {
          window.focus();
          window.location.hash = href({ view: "run", runId: r.runId, stepId: r.step });
        };
      } catch {
        /* some webviews expose Notification but refuse to construct it */
      }
    };
    if (Notification.permission === "granted") show();
    else if (Notification.permission === "default") void Notification.requestPermission().then((p) => p === "granted" && show());
  }
}

/** useEventFeed subscribes once and returns the stream's connection state. */
export function useEventFeed(): StreamState {
  const [state, setState] = useState<StreamState>("connecting");
  useEffect(() => {
    const off = subscribe((events) => {
      useRunStore.getState().apply(events);
      useRunsStore.getState().apply(events);
      usePullStore.getState().apply(events);
      useDriftStore.getState().apply(events);
      notifyReviews(events);
    });
    const offState = onStreamState((s, resynced) => {
      setState(s);
      if (resynced) {
        void useRunStore.getState().reload();
        void useRunsStore.getState().load();
      }
    });
    return () => {
      off();
      offState();
    };
  }, []);
  return state;
}

/** useShortcuts wires the keyboard shortcuts to navigation and the current view. */
export function useShortcuts(): void {
  useEffect(() => {
    let pending = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const onKey = (e: KeyboardEvent) => {
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      if (typingTarget(e.target as HTMLElement | null)) {
        if (e.key === "Escape") (e.target as HTMLElement).blur();
        return;
      }
      const r = nextKey(pending, e.key);
      pending = r.pending;
      clearTimeout(timer);
      if (pending) timer = setTimeout(() => (pending = false), 1500);
      const a = r.action;
      if (!a) return;
      const ui = useUI.getState();
      const top = ui.handlers[ui.handlers.length - 1];
      switch (a.type) {
        case "go":
          navigate({ view: a.to });
          break;
        case "help":
          ui.setHelp(!ui.help);
          break;
        case "close":
          if (ui.help) ui.setHelp(false);
          else top?.close?.();
          break;
        case "move":
          if (!top?.move) return;
          top.move(a.delta);
          break;
        case "open":
          if (!top?.open || (e.target as HTMLElement | null)?.closest?.("button, a")) return;
          top.open();
          break;
      }
      e.preventDefault();
    };
    window.addEventListener("keydown", onKey);
    return () => {
      window.removeEventListener("keydown", onKey);
      clearTimeout(timer);
    };
  }, []);
}
