// Timeline state: the run's history derived from its recorded step, attempt
// and call timestamps, and the state of every step at a time t.

import type { Status } from "../api/types";
import type { Detail } from "./runState";
import { ms } from "./time";

/** A bar on a step's lane: one attempt or one model call. */
export interface Bar {
  kind: "attempt" | "call";
  n: number;
  status: Status | "call";
  from: number;
  to: number;
  label: string;
}

export interface Lane {
  step: string;
  bars: Bar[];
}

/** A moment in the history where something changed. */
export interface Mark {
  t: number;
  step?: string;
  label: string;
}

export interface Timeline {
  start: number;
  end: number;
  lanes: Lane[];
  marks: Mark[];
}

/** StepAt is a step's state at some time. */
export interface StepAt {
  status: Status;
  attempts: number;
}

/** timeline derives lanes and marks; open intervals end at now. */
export function timeline(d: Detail, now: number): Timeline {
  const start = ms(d.run.started_at) ?? now;
  const runEnd = ms(d.run.ended_at);
  const lanes: Lane[] = d.steps.map((s) => ({ step: s.step, bars: [] }));
  const lane = (step: string): Lane => {
    let l = lanes.find((x) => x.step === step);
    if (!l) {
      l = { step, bars: [] };
      lanes.push(l);
    }
    return l;
  };
  const marks: Mark[] = [{ t: start, label: "run started" }];
  for (const a of d.attempts) {
    const from = ms(a.started_at);
    if (from === undefined) continue;
    const to = ms(a.ended_at) ?? runEnd ?? now;
    lane(a.step).bars.push({ kind: "attempt", n: a.n, status: a.status, from, to, label: `attempt ${a.n}: ${a.status}` });
    marks.push({ t: from, step: a.step, label: `${a.step} attempt ${a.n} started` });
    if (ms(a.ended_at) !== undefined) marks.push({ t: to, step: a.step, label: `${a.step} attempt ${a.n} ${a.status}` });
  }
  for (const c of d.calls) {
    const from = ms(c.started_at);
    if (from === undefined) continue;
    const to = from + c.duration_ns / 1e6;
    lane(c.step).bars.push({ kind: "call", n: c.seq, status: "call", from, to, label: `call ${c.seq}: ${c.tokens_in}→${c.tokens_out} tokens` });
  }
  for (const s of d.steps) {
    const end = ms(s.ended_at);
    if (end !== undefined) marks.push({ t: end, step: s.step, label: `${s.step} ${s.status}` });
    else if (s.status === "awaiting_review") {
      const last = Math.max(...lane(s.step).bars.map((b) => b.to), ms(s.started_at) ?? start);
      marks.push({ t: last, step: s.step, label: `${s.step} awaiting review` });
    }
  }
  if (runEnd !== undefined) marks.push({ t: runEnd, label: `run ${d.run.status}` });
  marks.sort((a, b) => a.t - b.t);
  const end = Math.max(runEnd ?? now, ...marks.map((m) => m.t), ...lanes.flatMap((l) => l.bars.map((b) => b.to)));
  return { start, end, lanes, marks };
}

/** stepsAt replays the graph: each step's status and attempt count at time t. */
export function stepsAt(d: Detail, t: number): Record<string, StepAt> {
  const out: Record<string, StepAt> = {};
  for (const s of d.steps) {
    const atts = d.attempts.filter((a) => a.step === s.step && (ms(a.started_at) ?? Infinity) <= t);
    const end = ms(s.ended_at);
    const begin = ms(s.started_at);
    if (end !== undefined && end <= t) {
      out[s.step] = { status: s.status, attempts: s.attempts };
      continue;
    }
    if (atts.length === 0) {
      const started = begin !== undefined && begin <= t;
      out[s.step] = { status: started ? "running" : "pending", attempts: 0 };
      continue;
    }
    const last = atts.reduce((a, b) => (b.n > a.n ? b : a));
    const lastEnd = ms(last.ended_at);
    let status: Status = "running";
    if (lastEnd !== undefined && lastEnd <= t && end === undefined && s.status === "awaiting_review" && last.n === s.attempts) {
      status = "awaiting_review";
    }
    out[s.step] = { status, attempts: last.n };
  }
  return out;
}

/** runStatusAt gives the run's status at time t. */
export function runStatusAt(d: Detail, t: number): Status {
  const end = ms(d.run.ended_at);
  if (end !== undefined && end <= t) return d.run.status;
  const start = ms(d.run.started_at);
  if (start !== undefined && t < start) return "pending";
  if (d.run.status === "awaiting_review" || d.run.status === "interrupted") {
    const settled = Math.max(start ?? 0, ...d.attempts.map((a) => ms(a.ended_at) ?? 0));
    if (t >= settled) return d.run.status;
  }
  return "running";
}

/** fraction maps t into [0, 1] along the timeline, for bar positions. */
export function fraction(tl: Timeline, t: number): number {
  const w = tl.end - tl.start;
  if (w <= 0) return 0;
  return Math.min(1, Math.max(0, (t - tl.start) / w));
}
