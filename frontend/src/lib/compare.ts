// Compare two runs step by step.

import type { Artifact, ModelCall, Status } from "../api/types";
import { latestFiles } from "./diff";
import type { Detail } from "./runState";
import { span } from "./time";

/** One run's side of a compared step. */
export interface Side {
  status: Status;
  attempts: number;
  model: string;
  tokensIn: number;
  tokensOut: number;
  durationMs: number | undefined;
  errors: string[];
  cacheHit: boolean;
  files: Artifact[];
  lastCall: ModelCall | undefined;
}

/** A compared step: present in a, b or both. */
export interface StepPair {
  step: string;
  a?: Side;
  b?: Side;
}

/** A file of the compared step, by path. */
export interface FilePair {
  path: string;
  a?: Artifact;
  b?: Artifact;
  same: boolean;
}

function side(d: Detail, step: string, now: number): Side | undefined {
  const s = d.steps.find((x) => x.step === step);
  if (!s) return undefined;
  const calls = d.calls.filter((c) => c.step === step);
  const lastCall = calls.reduce<ModelCall | undefined>(
    (best, c) => (!best || c.attempt > best.attempt || (c.attempt === best.attempt && c.seq > best.seq) ? c : best),
    undefined,
  );
  const errors = d.attempts
    .filter((a) => a.step === step && a.error)
    .sort((x, y) => x.n - y.n)
    .map((a) => `attempt ${a.n}: ${a.error}`);
  if (s.error) errors.push(s.error);
  return {
    status: s.status,
    attempts: s.attempts,
    model: s.model,
    tokensIn: s.tokens_in,
    tokensOut: s.tokens_out,
    durationMs: span(s.started_at, s.ended_at, now),
    errors,
    cacheHit: !!s.cache_hit,
    files: latestFiles(d.artifacts, step),
    lastCall,
  };
}

/** pairSteps lines up the steps of two runs: a's order first, then b's extra steps. */
export function pairSteps(a: Detail, b: Detail, now: number): StepPair[] {
  const ids = [...a.steps.map((s) => s.step)];
  for (const s of b.steps) if (!ids.includes(s.step)) ids.push(s.step);
  return ids.map((step) => {
    const sa = side(a, step, now);
    const sb = side(b, step, now);
    return { step, ...(sa ? { a: sa } : {}), ...(sb ? { b: sb } : {}) };
  });
}

/** pairFiles lines up two lists of files by path. */
export function pairFiles(a: readonly Artifact[], b: readonly Artifact[]): FilePair[] {
  const paths = [...new Set([...a.map((x) => x.path), ...b.map((x) => x.path)])].sort();
  return paths.map((path) => {
    const fa = a.find((x) => x.path === path);
    const fb = b.find((x) => x.path === path);
    return { path, ...(fa ? { a: fa } : {}), ...(fb ? { b: fb } : {}), same: !!fa && !!fb && fa.sha256 === fb.sha256 };
  });
}

/** differs reports whether a compared step differs in anything the table shows. */
export function differs(p: StepPair): boolean {
  if (!p.a || !p.b) return true;
  if (p.a.status !== p.b.status || p.a.model !== p.b.model || p.a.attempts !== p.b.attempts) return true;
  if (p.a.lastCall?.prompt_hash !== p.b.lastCall?.prompt_hash) return true;
  return pairFiles(p.a.files, p.b.files).some((f) => !f.same);
}
