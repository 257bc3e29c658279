import { describe, expect, it } from "vitest";
import { at, sampleDetail } from "./fixtures";
import { normalize } from "./runState";
import { fraction, runStatusAt, stepsAt, timeline } from "./timeline";

const d = normalize(sampleDetail());
const now = at("10:05:00");

describe("timeline", () => {
  const tl = timeline(d, now);
  it("has a lane per step with attempt and call bars", () => {
    expect(tl.lanes.map((l) => l.step)).toEqual(["design", "code", "tests", "pipeline"]);
    const code = tl.lanes.find((l) => l.step === "code")!;
    expect(code.bars.filter((b) => b.kind === "attempt").map((b) => b.status)).toEqual(["failed", "succeeded"]);
    expect(code.bars.filter((b) => b.kind === "call")).toHaveLength(2);
  });
  it("spans from run start to now for an open run", () => {
    expect(tl.start).toBe(at("10:00:00"));
    expect(tl.end).toBe(now);
  });
  it("marks are sorted and include the review wait", () => {
    const ts = tl.marks.map((m) => m.t);
    expect([...ts].sort((a, b) => a - b)).toEqual(ts);
    expect(tl.marks.some((m) => m.label === "tests awaiting review")).toBe(true);
  });
  it("fraction clamps", () => {
    expect(fraction(tl, 0)).toBe(0);
    expect(fraction(tl, now + 1000)).toBe(1);
  });
});

describe("stepsAt", () => {
  const cases: [string, string, Record<string, { status: string; attempts: number }>][] = [
    ["before anything", "09:59:59", { design: { status: "pending", attempts: 0 }, code: { status: "pending", attempts: 0 } }],
    ["design running", "10:00:05", { design: { status: "running", attempts: 1 }, code: { status: "pending", attempts: 0 } }],
    ["code first attempt", "10:00:15", { design: { status: "succeeded", attempts: 1 }, code: { status: "running", attempts: 1 } }],
    ["code retry", "10:00:25", { code: { status: "running", attempts: 2 } }],
    ["cache hit lands at once", "10:00:40", { pipeline: { status: "succeeded", attempts: 0 }, tests: { status: "running", attempts: 1 } }],
    ["tests wait for review", "10:01:00", { tests: { status: "awaiting_review", attempts: 1 }, code: { status: "succeeded", attempts: 2 } }],
  ];
  for (const [name, hms, want] of cases) {
    it(name, () => {
      const got = stepsAt(d, at(hms));
      for (const [id, w] of Object.entries(want)) expect(got[id]).toEqual(w);
    });
  }
});

describe("runStatusAt", () => {
  it("replays the run status", () => {
    expect(runStatusAt(d, at("09:00:00"))).toBe("pending");
    expect(runStatusAt(d, at("10:00:30"))).toBe("running");
    expect(runStatusAt(d, at("10:01:00"))).toBe("awaiting_review");
  });
});
