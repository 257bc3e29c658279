import { describe, expect, it } from "vitest";
import type { FactoryEvent, RunDetail } from "../api/types";
import { sampleDetail } from "./fixtures";
import {
  applyToList,
  isConflict,
  liveRun,
  needsRefresh,
  reduce,
  reduceAll,
  refresh,
  resumable,
  reviewReason,
  reviewRequests,
  type LiveRun,
} from "./runState";

function emptyRun(): RunDetail {
  const d = sampleDetail();
  return { run: { ...d.run, status: "running", tokens_in: 0, tokens_out: 0, calls: 0 }, steps: null, attempts: null, calls: null, artifacts: null };
}

const T = "2025-01-01T11:00:00Z";
const ev = (e: Partial<FactoryEvent> & Pick<FactoryEvent, "kind">): FactoryEvent => ({ time: T, run_id: "r1", ...e });

function step(s: LiveRun, id: string) {
  return s.detail.steps.find((x) => x.step === id);
}

describe("reduce", () => {
  it("normalizes null lists", () => {
    const s = liveRun(emptyRun());
    expect(s.detail.steps).toEqual([]);
    expect(s.detail.artifacts).toEqual([]);
  });

  it("ignores events of other runs", () => {
    const s = liveRun(emptyRun());
    expect(reduce(s, ev({ kind: "run", run_id: "other", status: "failed" }))).toBe(s);
  });

  const cases: { name: string; events: FactoryEvent[]; check: (s: LiveRun) => void }[] = [
    {
      name: "step running creates the step and stamps its start",
      events: [ev({ kind: "step", step: "design", status: "running" })],
      check: (s) => {
        expect(step(s, "design")?.status).toBe("running");
        expect(step(s, "design")?.started_at).toBe(T);
      },
    },
    {
      name: "attempts count up and failures keep their error",
      events: [
        ev({ kind: "attempt", step: "code", attempt: 1, status: "running" }),
        ev({ kind: "attempt", step: "code", attempt: 1, status: "failed", message: "vet failed" }),
        ev({ kind: "attempt", step: "code", attempt: 2, status: "running" }),
      ],
      check: (s) => {
        expect(step(s, "code")?.attempts).toBe(2);
        expect(step(s, "code")?.status).toBe("running");
        const a1 = s.detail.attempts.find((a) => a.n === 1);
        expect(a1?.status).toBe("failed");
        expect(a1?.error).toBe("vet failed");
        expect(a1?.ended_at).toBe(T);
        expect(s.detail.attempts.find((a) => a.n === 2)?.status).toBe("running");
      },
    },
    {
      name: "calls add tokens to step and run",
      events: [
        ev({ kind: "call", step: "design", tokens_in: 10, tokens_out: 4 }),
        ev({ kind: "call", step: "design", tokens_in: 5, tokens_out: 1 }),
      ],
      check: (s) => {
        expect(step(s, "design")?.tokens_in).toBe(15);
        expect(s.detail.run.tokens_out).toBe(5);
        expect(s.detail.run.calls).toBe(2);
      },
    },
    {
      name: "tokens stream per attempt",
      events: [
        ev({ kind: "token", step: "code", attempt: 1, text: "pack" }),
        ev({ kind: "token", step: "code", attempt: 1, text: "age main" }),
        ev({ kind: "token", step: "code", attempt: 2, text: "x" }),
      ],
      check: (s) => expect(s.tokens["code"]).toEqual({ 1: "package main", 2: "x" }),
    },
    {
      name: "gates collect per step",
      events: [ev({ kind: "gate", step: "code", attempt: 1, status: "failed", message: "go vet: bad" })],
      check: (s) => expect(s.gates["code"]).toEqual([{ time: T, attempt: 1, status: "failed", message: "go vet: bad" }]),
    },
    {
      name: "terminal run status stamps the end and keeps the error",
      events: [ev({ kind: "run", status: "failed", message: "budget exceeded" })],
      check: (s) => {
        expect(s.detail.run.status).toBe("failed");
        expect(s.detail.run.error).toBe("budget exceeded");
        expect(s.detail.run.ended_at).toBe(T);
      },
    },
    {
      name: "awaiting review is not terminal",
      events: [ev({ kind: "step", step: "tests", status: "awaiting_review" })],
      check: (s) => {
        expect(step(s, "tests")?.status).toBe("awaiting_review");
        expect(step(s, "tests")?.ended_at).toBeUndefined();
      },
    },
  ];
  for (const c of cases) it(c.name, () => c.check(reduceAll(liveRun(emptyRun()), c.events)));

  it("a resumed run drops its old error and end, as does a step that runs again", () => {
    const ended = reduceAll(liveRun(emptyRun()), [
      ev({ kind: "step", step: "code", status: "running" }),
      ev({ kind: "step", step: "code", status: "failed", message: "the model crashed" }),
      ev({ kind: "run", status: "failed", message: "step code failed" }),
    ]);
    expect(ended.detail.run.error).toBe("step code failed");
    expect(step(ended, "code")?.error).toBe("the model crashed");
    const later = "2025-01-01T12:00:00Z";
    const resumed = reduceAll(ended, [
      ev({ kind: "run", status: "running", message: "pipeline (resumed)", time: later }),
      ev({ kind: "step", step: "code", status: "running", time: later }),
    ]);
    expect(resumed.detail.run.status).toBe("running");
    expect(resumed.detail.run.error).toBeUndefined();
    expect(resumed.detail.run.ended_at).toBeUndefined();
    expect(step(resumed, "code")?.error).toBeUndefined();
    expect(step(resumed, "code")?.ended_at).toBeUndefined();
    const done = reduceAll(resumed, [
      ev({ kind: "step", step: "code", status: "succeeded", time: "2025-01-01T12:01:00Z" }),
      ev({ kind: "run", status: "succeeded", time: "2025-01-01T12:02:00Z" }),
    ]);
    expect(step(done, "code")?.ended_at).toBe("2025-01-01T12:01:00Z");
    expect(done.detail.run.ended_at).toBe("2025-01-01T12:02:00Z");
  });

  it("refresh replays status events that raced the fetch, not tokens", () => {
    const s = liveRun(emptyRun());
    const raced = [ev({ kind: "step", step: "tests", status: "succeeded" }), ev({ kind: "call", step: "tests", tokens_in: 50 })];
    const r = refresh(s, sampleDetail(), raced);
    expect(step(r, "tests")?.status).toBe("succeeded");
    expect(step(r, "tests")?.tokens_in).toBe(0);
  });

  it("refresh keeps streamed tokens", () => {
    const s = reduce(liveRun(emptyRun()), ev({ kind: "token", step: "code", attempt: 1, text: "hi" }));
    const r = refresh(s, sampleDetail());
    expect(r.tokens["code"]?.[1]).toBe("hi");
    expect(r.detail.steps).toHaveLength(4);
  });
});

describe("needsRefresh", () => {
  const cases: [string, FactoryEvent[], boolean][] = [
    ["token only", [ev({ kind: "token", step: "a", text: "x" })], false],
    ["attempt running", [ev({ kind: "attempt", step: "a", attempt: 1, status: "running" })], false],
    ["attempt done", [ev({ kind: "attempt", step: "a", attempt: 1, status: "succeeded" })], true],
    ["call", [ev({ kind: "call", step: "a" })], true],
    ["other run", [ev({ kind: "run", run_id: "zz", status: "failed" })], false],
  ];
  for (const [name, events, want] of cases) it(name, () => expect(needsRefresh("r1", events)).toBe(want));
});

describe("applyToList", () => {
  it("updates known runs and flags unknown ones", () => {
    const runs = [sampleDetail().run];
    const out = applyToList(runs, [ev({ kind: "run", status: "succeeded" }), ev({ kind: "run", run_id: "new", status: "running" })]);
    expect(out.runs[0]?.status).toBe("succeeded");
    expect(out.runs[0]?.ended_at).toBe(T);
    expect(out.unknown).toBe(true);
  });
  it("adds call tokens", () => {
    const out = applyToList([sampleDetail().run], [ev({ kind: "call", tokens_in: 1, tokens_out: 2 })]);
    expect(out.runs[0]?.tokens_in).toBe(301);
    expect(out.runs[0]?.calls).toBe(4);
    expect(out.unknown).toBe(false);
  });
});

describe("applyToList of a resumed run", () => {
  it("drops the end of a run that runs again", () => {
    const ended = { ...sampleDetail().run, status: "failed" as const, error: "boom", ended_at: T };
    const out = applyToList([ended], [ev({ kind: "run", status: "running" })]);
    expect(out.runs[0]?.status).toBe("running");
    expect(out.runs[0]?.ended_at).toBeUndefined();
    expect(out.runs[0]?.error).toBeUndefined();
  });
});

describe("resumable", () => {
  const cases: [string | undefined, boolean][] = [
    ["interrupted", true],
    ["failed", true],
    ["canceled", true],
    ["awaiting_review", true],
    ["running", false],
    ["pending", false],
    ["succeeded", false],
    ["skipped", false],
    [undefined, false],
  ];
  for (const [status, want] of cases) it(`${status} → ${want}`, () => expect(resumable(status)).toBe(want));
});

describe("reviewReason", () => {
  const waiting = { ...sampleDetail().steps![2]!, step: "tests", status: "awaiting_review" as const };
  const conflict = "merge conflict in out/orders/main.go: both changed lines 3-5; see .factory/conflicts/r1/out/orders/main.go";
  const attempt = (n: number, status: "failed" | "succeeded", error?: string) => ({
    run_id: "r1",
    step: "tests",
    n,
    status,
    started_at: T,
    ...(error ? { error } : {}),
  });
  it("is the failed latest attempt's error: a merge conflict waiting in this window", () => {
    const r = reviewReason(waiting, [attempt(1, "succeeded"), attempt(2, "failed", conflict)]);
    expect(r).toBe(conflict);
    expect(isConflict(r)).toBe(true);
  });
  it("is the step's error when it has one (a conflict left for factory review)", () => {
    const msg = `${conflict}; resolve it on disk, then approve (keep the files as they are) or reject (regenerate)`;
    expect(reviewReason({ ...waiting, error: msg }, [attempt(1, "failed", conflict)])).toBe(msg);
  });
  it("is nothing for a plain review", () => {
    expect(reviewReason(waiting, [attempt(1, "failed", "vet failed"), attempt(2, "succeeded")])).toBeUndefined();
    expect(reviewReason({ ...waiting, error: "waits for a review" }, [attempt(1, "succeeded")])).toBeUndefined();
    expect(isConflict(undefined)).toBe(false);
    expect(isConflict("vet failed")).toBe(false);
  });
  it("is nothing for a step that does not wait", () => {
    expect(reviewReason({ ...waiting, status: "failed", error: "x" }, [attempt(1, "failed", conflict)])).toBeUndefined();
    expect(reviewReason(undefined, [])).toBeUndefined();
  });
  it("ignores other steps' attempts", () => {
    expect(reviewReason(waiting, [{ ...attempt(3, "failed", conflict), step: "code" }, attempt(1, "succeeded")])).toBeUndefined();
  });
});

describe("reviewRequests", () => {
  it("lists steps that wait for review", () => {
    expect(
      reviewRequests([
        ev({ kind: "step", step: "tests", status: "awaiting_review" }),
        ev({ kind: "step", step: "code", status: "running" }),
        ev({ kind: "run", status: "awaiting_review" }),
      ]),
    ).toEqual([{ runId: "r1", step: "tests" }]);
  });
});
