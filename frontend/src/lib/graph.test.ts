import ELK from "elkjs/lib/elk.bundled.js";
import { describe, expect, it } from "vitest";
import { normalize } from "./runState";
import { sampleDetail } from "./fixtures";
import { edges, elkInput, fallbackLayout, fromBlueprintSteps, fromStepRuns, layoutKey, levels, neighbour, positionsFromElk, topoOrder, type GraphStep } from "./graph";

const g = (id: string, needs: string[] = []): GraphStep => ({ id, role: "r", needs });

describe("edges", () => {
  const cases: [string, GraphStep[], string[]][] = [
    ["chain", [g("a"), g("b", ["a"]), g("c", ["b"])], ["a->b", "b->c"]],
    ["fan in", [g("a"), g("b"), g("c", ["a", "b"])], ["a->c", "b->c"]],
    ["unknown need skipped", [g("a", ["ghost"])], []],
    ["self need skipped", [g("a", ["a"])], []],
  ];
  for (const [name, steps, want] of cases) it(name, () => expect(edges(steps).map((e) => e.id)).toEqual(want));
});

describe("levels", () => {
  it("gives depth by longest path", () => {
    expect(levels([g("a"), g("b", ["a"]), g("c", ["a", "b"]), g("d")])).toEqual({ a: 0, b: 1, c: 2, d: 0 });
  });
  it("survives a cycle", () => {
    const lv = levels([g("a", ["b"]), g("b", ["a"])]);
    expect(Object.keys(lv).sort()).toEqual(["a", "b"]);
  });
  it("orders topologically", () => {
    expect(topoOrder([g("c", ["b"]), g("b", ["a"]), g("a")])).toEqual(["a", "b", "c"]);
  });
});

describe("from run and blueprint steps", () => {
  it("maps run state onto nodes", () => {
    const steps = fromStepRuns(normalize(sampleDetail()).steps);
    const pipeline = steps.find((s) => s.id === "pipeline");
    expect(pipeline?.cacheHit).toBe(true);
    expect(steps.find((s) => s.id === "tests")?.review).toBe(true);
    expect(steps.find((s) => s.id === "code")?.attempts).toBe(2);
  });
  it("maps blueprint review flags", () => {
    const steps = fromBlueprintSteps([{ id: "t", role: "qa", review: "required", needs: ["c"] }, { id: "c", role: "dev" }]);
    expect(steps[0]?.review).toBe(true);
    expect(steps[1]?.needs).toEqual([]);
  });
});

describe("layout", () => {
  const steps = fromStepRuns(normalize(sampleDetail()).steps);
  it("fallback puts dependents to the right", () => {
    const p = fallbackLayout(steps);
    expect(p["code"]!.x).toBeGreaterThan(p["design"]!.x);
    expect(p["tests"]!.x).toBe(p["pipeline"]!.x);
    expect(p["tests"]!.y).not.toBe(p["pipeline"]!.y);
  });
  it("fallback orders a column by the rows of its needs", () => {
    const g = (id: string, needs: string[] = []): GraphStep => ({ ...steps[0]!, id, needs });
    // b2 needs a0 (row 0), b1 needs a2 (row 2): b2 goes above b1.
    const p = fallbackLayout([g("a0"), g("a1"), g("a2"), g("b1", ["a2"]), g("b2", ["a0"])]);
    expect(p["b2"]!.y).toBeLessThan(p["b1"]!.y);
    expect(p["b2"]!.y).toBe(p["a0"]!.y);
  });
  it("lays out a thousand steps at once, every edge pointing right", () => {
    const big: GraphStep[] = [];
    for (let l = 0; l < 50; l++)
      for (let w = 0; w < 20; w++) big.push({ ...steps[0]!, id: `l${l}w${w}`, needs: l > 0 ? [`l${l - 1}w${(w * 7) % 20}`] : [] });
    const p = fallbackLayout(big);
    expect(Object.keys(p)).toHaveLength(1000);
    for (const e of edges(big)) expect(p[e.target]!.x).toBeGreaterThan(p[e.source]!.x);
    expect(new Set(Object.values(p).map((q) => `${q.x},${q.y}`)).size).toBe(1000);
  });
  it("ELK layered layout keeps edges pointing right", async () => {
    const out = positionsFromElk(await new ELK().layout(elkInput(steps)));
    expect(Object.keys(out).sort()).toEqual(["code", "design", "pipeline", "tests"]);
    for (const e of edges(steps)) expect(out[e.target]!.x).toBeGreaterThan(out[e.source]!.x);
  });
  it("layoutKey ignores status changes", () => {
    const changed = steps.map((s) => ({ ...s, status: "failed" as const }));
    expect(layoutKey(changed)).toBe(layoutKey(steps));
    expect(layoutKey([...steps, g("x", ["code"])])).not.toBe(layoutKey(steps));
  });
});

describe("neighbour", () => {
  const ids = ["a", "b", "c"];
  const cases: [string, string | undefined, number, string | undefined][] = [
    ["first from none", undefined, 1, "a"],
    ["last from none going up", undefined, -1, "c"],
    ["next", "a", 1, "b"],
    ["clamped at end", "c", 1, "c"],
    ["clamped at start", "a", -1, "a"],
  ];
  for (const [name, cur, d, want] of cases) it(name, () => expect(neighbour(ids, cur, d)).toBe(want));
  it("empty list", () => expect(neighbour([], "a", 1)).toBeUndefined());
});
