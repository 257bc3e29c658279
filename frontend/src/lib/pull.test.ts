import { describe, expect, it } from "vitest";
import type { FactoryEvent } from "../api/types";
import { percent, reducePulls } from "./pull";

const p = (e: Partial<FactoryEvent>): FactoryEvent => ({ time: "2025-01-01T00:00:00Z", kind: "pull", name: "qwen", ...e });

describe("reducePulls", () => {
  it("tracks progress to success", () => {
    let s = reducePulls({}, [p({ status: "pulling manifest" })]);
    expect(percent(s["qwen"]!)).toBeUndefined();
    s = reducePulls(s, [p({ status: "downloading", completed: 50, total: 200 })]);
    expect(percent(s["qwen"]!)).toBe(25);
    s = reducePulls(s, [p({ status: "verifying" })]);
    expect(s["qwen"]?.completed).toBe(50);
    s = reducePulls(s, [p({ status: "success" })]);
    expect(s["qwen"]?.done).toBe(true);
    expect(percent(s["qwen"]!)).toBe(100);
  });
  it("records a failure", () => {
    const s = reducePulls({}, [p({ status: "error", message: "no such model" })]);
    expect(s["qwen"]).toMatchObject({ done: true, error: "no such model" });
  });
  it("ignores other kinds", () => {
    const s = {};
    expect(reducePulls(s, [{ time: "", kind: "run", status: "running" }])).toBe(s);
  });
});
