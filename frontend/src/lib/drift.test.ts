import { describe, expect, it } from "vitest";
import type { Drift, FactoryEvent } from "../api/types";
import { applyDriftEvents, freshEvents, removeDrift, revertNote, sortDrifts } from "./drift";

const T = "2025-01-01T11:00:00Z";
const drift = (path: string, deleted = false): Drift => ({
  path,
  base_sha256: "b",
  current_sha256: deleted ? "" : "c",
  ...(deleted ? { deleted } : {}),
  diff: "",
  seen_at: T,
});
const ev = (status: string, name: string): FactoryEvent => ({ time: T, kind: "drift", status, name });

describe("sortDrifts and removeDrift", () => {
  it("sorts by path and takes null for none", () => {
    expect(sortDrifts([drift("out/b.go"), drift("out/a.go")]).map((d) => d.path)).toEqual(["out/a.go", "out/b.go"]);
    expect(sortDrifts(null)).toEqual([]);
  });
  it("removes one path", () => {
    expect(removeDrift([drift("out/a.go"), drift("out/b.go")], "out/a.go").map((d) => d.path)).toEqual(["out/b.go"]);
  });
});

describe("freshEvents", () => {
  const a = ev("edited", "a");
  const b = ev("edited", "b");
  const c = ev("cleared", "c");
  it("returns the events added before the previous newest", () => {
    expect(freshEvents([c, b, a], [a])).toEqual([c, b]);
    expect(freshEvents([a], [])).toEqual([a]);
  });
  it("returns nothing when the log did not change", () => {
    const log = [b, a];
    expect(freshEvents(log, log)).toEqual([]);
  });
  it("returns the whole log when the previous newest fell off it", () => {
    expect(freshEvents([c, b], [a])).toEqual([c, b]);
  });
});

describe("applyDriftEvents", () => {
  const list = [drift("out/a.go"), drift("out/b.go")];
  it("drops a cleared drift at once, without a reload", () => {
    const out = applyDriftEvents(list, [ev("cleared", "out/a.go")]);
    expect(out.list.map((d) => d.path)).toEqual(["out/b.go"]);
    expect(out.reload).toBe(false);
  });
  it("asks for a reload on an edit or a deletion", () => {
    expect(applyDriftEvents(list, [ev("edited", "out/c.go")])).toEqual({ list, reload: true });
    expect(applyDriftEvents(list, [ev("deleted", "out/a.go")]).reload).toBe(true);
  });
  it("ignores other events", () => {
    expect(applyDriftEvents(list, [{ time: T, kind: "run", status: "cleared", name: "out/a.go" }])).toEqual({ list, reload: false });
  });
});

describe("revertNote", () => {
  it("says where the replaced version is kept", () => {
    expect(revertNote({ path: "out/a.go", reverted: true, kept: ".factory/reverted/20250101-110000/out/a.go" })).toBe(
      "Reverted out/a.go to its generated content; the version it replaced is kept in .factory/reverted/20250101-110000/out/a.go.",
    );
    expect(revertNote({ path: "out/a.go", reverted: true })).toBe("Reverted out/a.go to its generated content.");
    expect(revertNote({ path: "out/a.go", reverted: false })).toMatch(/had no drift/);
  });
});
