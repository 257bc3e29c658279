// Loading data from the app surface with loading and error states.

import { useCallback, useEffect, useRef, useState } from "react";
import { api } from "../api/client";

/** Async is the state of one load. */
export interface Async<T> {
  data?: T;
  error?: string;
  loading: boolean;
  reload: () => void;
}

/** useAsync runs load when deps change and keeps the latest answer. */
export function useAsync<T>(load: () => Promise<T>, deps: readonly unknown[]): Async<T> {
  const [state, setState] = useState<{ data?: T; error?: string; loading: boolean }>({ loading: true });
  const seq = useRef(0);
  const run = useCallback(load, deps);
  const reload = useCallback(() => {
    const n = ++seq.current;
    setState((s) => ({ ...s, loading: true }));
    run().then(
      (data) => n === seq.current && setState({ data, loading: false }),
      (e: unknown) => n === seq.current && setState((s) => ({ ...s, error: e instanceof Error ? e.message : String(e), loading: false })),
    );
  }, [run]);
  useEffect(reload, [reload]);
  return { ...state, reload };
}

const blobs = new Map<string, Promise<string>>();

/** blob fetches a content-addressed blob once per session. */
export function blob(hash: string): Promise<string> {
  let p = blobs.get(hash);
  if (!p) {
    p = api.blob(hash);
    p.catch(() => blobs.delete(hash));
    blobs.set(hash, p);
  }
  return p;
}

/** useBlob loads a blob; an empty hash loads nothing. */
export function useBlob(hash: string | undefined): Async<string> {
  return useAsync(() => (hash ? blob(hash) : Promise.resolve("")), [hash]);
}
