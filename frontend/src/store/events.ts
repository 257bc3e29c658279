// Stores fed by the event stream: live run state, the runs list, model pulls
// and drift. One subscription in the app shell feeds them all.

import { create } from "zustand";
import { api } from "../api/client";
import type { FactoryEvent, Run, RunDetail, RunFilter } from "../api/types";
import { reducePulls, type PullState } from "../lib/pull";
import { applyToList, liveRun, needsRefresh, reduceAll, refresh, type LiveRun } from "../lib/runState";

interface RunStore {
  runId?: string;
  live?: LiveRun;
  error?: string;
  /** open loads a run and makes it the one live events apply to. */
  open: (id: string) => Promise<void>;
  reload: () => Promise<void>;
  apply: (events: FactoryEvent[]) => void;
}

let refreshTimer: ReturnType<typeof setTimeout> | undefined;
// Events received while a fetch of the run is in flight, replayed on its answer.
let inFlight: FactoryEvent[] | undefined;

async function fetchRun(id: string): Promise<{ d: RunDetail; since: FactoryEvent[] }> {
  const since: FactoryEvent[] = [];
  inFlight = since;
  try {
    return { d: await api.run(id), since };
  } finally {
    if (inFlight === since) inFlight = undefined;
  }
}

/** useRunStore holds the run shown by the run, step and timeline views. */
export const useRunStore = create<RunStore>((set, get) => ({
  open: async (id) => {
    if (get().runId === id && get().live) return get().reload();
    set({ runId: id, live: undefined, error: undefined });
    try {
      const { d, since } = await fetchRun(id);
      if (get().runId === id) set({ live: refresh(liveRun(d), d, since) });
    } catch (e) {
      if (get().runId === id) set({ error: e instanceof Error ? e.message : String(e) });
    }
  },
  reload: async () => {
    const id = get().runId;
    if (!id) return;
    try {
      const { d, since } = await fetchRun(id);
      const cur = get().live ?? liveRun(d);
      if (get().runId === id) set({ live: refresh(cur, d, since), error: undefined });
    } catch (e) {
      if (get().runId === id) set({ error: e instanceof Error ? e.message : String(e) });
    }
  },
  apply: (events) => {
    inFlight?.push(...events);
    const { live, runId } = get();
    if (!live || !runId) return;
    set({ live: reduceAll(live, events) });
    if (needsRefresh(runId, events)) {
      clearTimeout(refreshTimer);
      refreshTimer = setTimeout(() => void get().reload(), 400);
    }
  },
}));

interface RunsStore {
  filter: RunFilter;
  runs?: Run[];
  error?: string;
  setFilter: (f: RunFilter) => void;
  load: () => Promise<void>;
  apply: (events: FactoryEvent[]) => void;
}

let listTimer: ReturnType<typeof setTimeout> | undefined;

/** useRunsStore holds the runs list and its filter. */
export const useRunsStore = create<RunsStore>((set, get) => ({
  filter: { limit: 500 },
  setFilter: (filter) => {
    set({ filter });
    void get().load();
  },
  load: async () => {
    const filter = get().filter;
    try {
      const runs = (await api.runs(filter)) ?? [];
      if (get().filter === filter) set({ runs, error: undefined });
    } catch (e) {
      set({ error: e instanceof Error ? e.message : String(e) });
    }
  },
  apply: (events) => {
    const runs = get().runs;
    if (!runs) return;
    const out = applyToList(runs, events);
    set({ runs: out.runs });
    if (out.unknown) {
      clearTimeout(listTimer);
      listTimer = setTimeout(() => void get().load(), 300);
    }
  },
}));

interface PullStore {
  pulls: Record<string, PullState>;
  apply: (events: FactoryEvent[]) => void;
  clear: (name: string) => void;
}

/** usePullStore tracks model pulls in progress. */
export const usePullStore = create<PullStore>((set, get) => ({
  pulls: {},
  apply: (events) => {
    const next = reducePulls(get().pulls, events);
    if (next !== get().pulls) set({ pulls: next });
  },
  clear: (name) => {
    const { [name]: _gone, ...rest } = get().pulls;
    set({ pulls: rest });
  },
}));

interface DriftStore {
  events: FactoryEvent[];
  apply: (events: FactoryEvent[]) => void;
}

/** useDriftStore keeps the drift events seen since the window opened, newest first. */
export const useDriftStore = create<DriftStore>((set, get) => ({
  events: [],
  apply: (events) => {
    const drift = events.filter((e) => e.kind === "drift");
    if (drift.length) set({ events: [...drift.reverse(), ...get().events].slice(0, 1000) });
  },
}));
