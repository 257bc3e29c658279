// Event reduction: a run's recorded detail plus the live events that follow
// it give the state the run view shows.

import type { Attempt, FactoryEvent, Run, RunDetail, Status, StepRun } from "../api/types";
import { isSet } from "./time";

/** A RunDetail whose lists are never null. */
export interface Detail {
  run: Run;
  steps: StepRun[];
  attempts: Attempt[];
  calls: NonNullable<RunDetail["calls"]>;
  artifacts: NonNullable<RunDetail["artifacts"]>;
}

/** A gate result reported by a "gate" event. */
export interface GateEvent {
  time: string;
  attempt: number;
  status: string;
  message: string;
}

/** LiveRun is what the run view renders. */
export interface LiveRun {
  detail: Detail;
  /** Streamed answer text by step, then attempt. */
  tokens: Record<string, Record<number, string>>;
  /** Gate results by step, in arrival order. */
  gates: Record<string, GateEvent[]>;
}

const TERMINAL: ReadonlySet<string> = new Set(["succeeded", "failed", "skipped", "canceled"]);

/** terminal reports whether a status is final. */
export function terminal(status: string | undefined): boolean {
  return status !== undefined && TERMINAL.has(status);
}

/** normalize replaces the null lists Go sends for empty slices. */
export function normalize(d: RunDetail): Detail {
  return {
    run: d.run,
    steps: d.steps ?? [],
    attempts: d.attempts ?? [],
    calls: d.calls ?? [],
    artifacts: d.artifacts ?? [],
  };
}

/** liveRun starts a LiveRun from a fetched detail. */
export function liveRun(d: RunDetail): LiveRun {
  return { detail: normalize(d), tokens: {}, gates: {} };
}

/**
 * refresh replaces the recorded detail, keeping streamed tokens and gates.
 * The status events that arrived while the detail was being fetched are
 * applied again on top, so a fetch answered just before an event does not
 * undo it; token counts are not, since the fetched detail may include them.
 */
export function refresh(s: LiveRun, d: RunDetail, since: readonly FactoryEvent[] = []): LiveRun {
  const replay = since.filter((e) => e.kind === "run" || e.kind === "step" || e.kind === "attempt");
  return reduceAll({ ...s, detail: normalize(d) }, replay);
}

function asStatus(s: string | undefined, fallback: Status): Status {
  return (s as Status | undefined) ?? fallback;
}

function upsertStep(steps: StepRun[], runId: string, id: string, f: (s: StepRun) => StepRun): StepRun[] {
  const i = steps.findIndex((s) => s.step === id);
  const base: StepRun =
    i >= 0
      ? steps[i]!
      : { run_id: runId, step: id, role: "", model: "", status: "pending", attempts: 0, tokens_in: 0, tokens_out: 0 };
  const next = f(base);
  return i >= 0 ? steps.map((s, j) => (j === i ? next : s)) : [...steps, next];
}

function upsertAttempt(list: Attempt[], runId: string, step: string, n: number, f: (a: Attempt) => Attempt): Attempt[] {
  const i = list.findIndex((a) => a.step === step && a.n === n);
  const base: Attempt = i >= 0 ? list[i]! : { run_id: runId, step, n, status: "running", started_at: "" };
  const next = f(base);
  return i >= 0 ? list.map((a, j) => (j === i ? next : a)) : [...list, next];
}

function stepEvent(d: Detail, ev: FactoryEvent, step: string): Detail {
  const steps = upsertStep(d.steps, d.run.id, step, (prev) => {
    const status = asStatus(ev.status, prev.status);
    // A step that runs again (its run resumed) drops its old error and end.
    const s = status === "running" && prev.status !== "running" ? { ...prev, error: undefined, ended_at: undefined } : prev;
    return {
      ...s,
      status,
      ...(status === "failed" && ev.message ? { error: ev.message } : {}),
      ...(!isSet(s.started_at) && status === "running" ? { started_at: ev.time } : {}),
      ...(terminal(status) && !isSet(s.ended_at) ? { ended_at: ev.time } : {}),
    };
  });
  return { ...d, steps };
}

function attemptEvent(d: Detail, ev: FactoryEvent, step: string, n: number): Detail {
  const status = asStatus(ev.status, "running");
  const attempts = upsertAttempt(d.attempts, d.run.id, step, n, (a) => ({
    ...a,
    status,
    ...(status === "failed" && ev.message ? { error: ev.message } : {}),
    ...(!isSet(a.started_at) ? { started_at: ev.time } : {}),
    ...(status !== "running" && !isSet(a.ended_at) ? { ended_at: ev.time } : {}),
  }));
  const steps = upsertStep(d.steps, d.run.id, step, (s) => ({
    ...s,
    attempts: Math.max(s.attempts, n),
    ...(status === "running" && s.status === "pending" ? { status: "running" as Status } : {}),
    ...(!isSet(s.started_at) ? { started_at: ev.time } : {}),
  }));
  return { ...d, attempts, steps };
}

function callEvent(d: Detail, ev: FactoryEvent, step: string | undefined): Detail {
  const tin = ev.tokens_in ?? 0;
  const tout = ev.tokens_out ?? 0;
  const run = { ...d.run, tokens_in: d.run.tokens_in + tin, tokens_out: d.run.tokens_out + tout, calls: d.run.calls + 1 };
  const steps = step
    ? upsertStep(d.steps, d.run.id, step, (s) => ({ ...s, tokens_in: s.tokens_in + tin, tokens_out: s.tokens_out + tout }))
    : d.steps;
  return { ...d, run, steps };
}

function runEvent(d: Detail, ev: FactoryEvent): Detail {
  const status = asStatus(ev.status, d.run.status);
  // A run that runs again (resumed) drops its old error and end.
  const run = status === "running" && d.run.status !== "running" ? { ...d.run, error: undefined, ended_at: undefined } : d.run;
  return {
    ...d,
    run: {
      ...run,
      status,
      ...(status === "failed" && ev.message ? { error: ev.message } : {}),
      ...(terminal(status) && !isSet(run.ended_at) ? { ended_at: ev.time } : {}),
    },
  };
}

/** reduce applies one event to a run's state; events of other runs are ignored. */
export function reduce(s: LiveRun, ev: FactoryEvent): LiveRun {
  if (ev.run_id !== s.detail.run.id) return s;
  const step = ev.step;
  switch (ev.kind) {
    case "run":
      return { ...s, detail: runEvent(s.detail, ev) };
    case "step":
      return step ? { ...s, detail: stepEvent(s.detail, ev, step) } : s;
    case "attempt":
      return step && ev.attempt ? { ...s, detail: attemptEvent(s.detail, ev, step, ev.attempt) } : s;
    case "call":
      return { ...s, detail: callEvent(s.detail, ev, step) };
    case "token": {
      if (!step || !ev.text) return s;
      const n = ev.attempt ?? 1;
      const byAttempt = s.tokens[step] ?? {};
      return { ...s, tokens: { ...s.tokens, [step]: { ...byAttempt, [n]: (byAttempt[n] ?? "") + ev.text } } };
    }
    case "gate": {
      if (!step) return s;
      const g: GateEvent = { time: ev.time, attempt: ev.attempt ?? 0, status: ev.status ?? "", message: ev.message ?? "" };
      return { ...s, gates: { ...s.gates, [step]: [...(s.gates[step] ?? []), g] } };
    }
    default:
      return s;
  }
}

/** reduceAll applies a batch of events in order. */
export function reduceAll(s: LiveRun, events: readonly FactoryEvent[]): LiveRun {
  return events.reduce(reduce, s);
}

/**
 * needsRefresh reports whether a batch holds an event after which the
 * recorded detail (calls, artifacts, errors) should be fetched again.
 */
export function needsRefresh(runId: string, events: readonly FactoryEvent[]): boolean {
  return events.some(
    (e) =>
      e.run_id === runId &&
      (e.kind === "call" || e.kind === "run" || (e.kind === "step" && e.status !== "running") || (e.kind === "attempt" && e.status !== "running")),
  );
}

/** applyToList updates the runs of a list from events; unknown reports a run the list lacks. */
export function applyToList(runs: readonly Run[], events: readonly FactoryEvent[]): { runs: Run[]; unknown: boolean } {
  const byId = new Map(runs.map((r) => [r.id, r]));
  let unknown = false;
  let changed = false;
  for (const e of events) {
    if (!e.run_id || (e.kind !== "run" && e.kind !== "call")) continue;
    const r = byId.get(e.run_id);
    if (!r) {
      unknown ||= e.kind === "run";
      continue;
    }
    changed = true;
    if (e.kind === "run") {
      const status = asStatus(e.status, r.status);
      const cur = status === "running" && r.status !== "running" ? { ...r, error: undefined, ended_at: undefined } : r; // resumed
      byId.set(r.id, { ...cur, status, ...(terminal(status) && !isSet(cur.ended_at) ? { ended_at: e.time } : {}) });
    } else {
      byId.set(r.id, { ...r, tokens_in: r.tokens_in + (e.tokens_in ?? 0), tokens_out: r.tokens_out + (e.tokens_out ?? 0), calls: r.calls + 1 });
    }
  }
  return { runs: changed ? runs.map((r) => byId.get(r.id) ?? r) : [...runs], unknown };
}

/** reviewRequests lists the steps that became awaiting_review in a batch. */
export function reviewRequests(events: readonly FactoryEvent[]): { runId: string; step: string }[] {
  return events
    .filter((e) => e.kind === "step" && e.status === "awaiting_review" && e.run_id && e.step)
    .map((e) => ({ runId: e.run_id!, step: e.step! }));
}

const RESUMABLE: ReadonlySet<string> = new Set(["interrupted", "failed", "canceled", "awaiting_review"]);

/**
 * resumable reports whether a run in this status may be resumed: it was
 * interrupted, failed, was canceled or waits for a review. A running run is
 * not, nor one that succeeded.
 */
export function resumable(status: string | undefined): boolean {
  return status !== undefined && RESUMABLE.has(status);
}

/**
 * reviewReason is why a step waiting for a review waits, when it is not a
 * plain review: the step's error, or else the error of its latest attempt
 * when that attempt failed (a merge conflict with a hand edit makes the step
 * wait for the operator, and names the conflict file there).
 */
export function reviewReason(step: StepRun | undefined, attempts: readonly Attempt[]): string | undefined {
  if (!step || step.status !== "awaiting_review") return undefined;
  if (step.error && step.error !== "waits for a review") return step.error;
  let latest: Attempt | undefined;
  for (const a of attempts) {
    if (a.step === step.step && (!latest || a.n > latest.n)) latest = a;
  }
  return latest?.status === "failed" && latest.error ? latest.error : undefined;
}

/** isConflict reports whether a review reason is a merge conflict with a hand edit. */
export function isConflict(reason: string | undefined): boolean {
  return reason !== undefined && /merge conflict/i.test(reason);
}
