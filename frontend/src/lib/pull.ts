// Model pull progress from "pull" events.

import type { FactoryEvent } from "../api/types";

export interface PullState {
  status: string;
  completed: number;
  total: number;
  done: boolean;
  error?: string;
}

/** reducePulls folds pull events into per-model progress. */
export function reducePulls(s: Record<string, PullState>, events: readonly FactoryEvent[]): Record<string, PullState> {
  let out = s;
  for (const e of events) {
    if (e.kind !== "pull" || !e.name) continue;
    const prev = out[e.name] ?? { status: "", completed: 0, total: 0, done: false };
    const status = e.status ?? prev.status;
    const failed = status === "error" || status === "failed";
    const next: PullState = {
      status,
      completed: e.total !== undefined && e.total !== prev.total ? e.completed ?? 0 : e.completed ?? prev.completed,
      total: e.total ?? prev.total,
      done: status === "success" || failed,
      ...(failed ? { error: e.message ?? "pull failed" } : {}),
    };
    out = { ...out, [e.name]: next };
  }
  return out;
}

/** percent of a pull, or undefined while its size is unknown. */
export function percent(p: PullState): number | undefined {
  if (p.done && !p.error) return 100;
  if (!p.total) return undefined;
  return Math.min(100, Math.round((p.completed / p.total) * 100));
}
