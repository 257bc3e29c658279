import { describe, expect, it } from "vitest";
import { sampleDetail } from "./fixtures";
import { differs, pairFiles, pairSteps } from "./compare";
import { normalize } from "./runState";

describe("pairSteps", () => {
  const a = normalize(sampleDetail());
  const bRaw = sampleDetail();
  bRaw.run.id = "r2";
  bRaw.steps = bRaw.steps!.filter((s) => s.step !== "pipeline").concat([{ ...bRaw.steps![0]!, step: "docs", needs: ["design"] }]);
  bRaw.artifacts = bRaw.artifacts!.map((x) => (x.path === "go.mod" ? { ...x, sha256: "other" } : x));
  const b = normalize(bRaw);
  const pairs = pairSteps(a, b, Date.parse("2025-01-01T10:05:00Z"));

  it("keeps a's order and appends b's extra steps", () => {
    expect(pairs.map((p) => p.step)).toEqual(["design", "code", "tests", "pipeline", "docs"]);
    expect(pairs.find((p) => p.step === "pipeline")?.b).toBeUndefined();
    expect(pairs.find((p) => p.step === "docs")?.a).toBeUndefined();
  });
  it("summarises a side", () => {
    const code = pairs.find((p) => p.step === "code")!.a!;
    expect(code.attempts).toBe(2);
    expect(code.errors).toEqual(["attempt 1: go build: undefined: Order"]);
    expect(code.durationMs).toBe(30_000);
    expect(code.lastCall?.prompt_hash).toBe("p3");
    expect(code.files.map((f) => f.path)).toEqual(["go.mod", "main.go"]);
  });
  it("flags differing steps", () => {
    expect(differs(pairs.find((p) => p.step === "design")!)).toBe(false);
    expect(differs(pairs.find((p) => p.step === "code")!)).toBe(true);
    expect(differs(pairs.find((p) => p.step === "docs")!)).toBe(true);
  });
  it("pairs files by path", () => {
    const code = pairs.find((p) => p.step === "code")!;
    expect(pairFiles(code.a!.files, code.b!.files).map((f) => [f.path, f.same])).toEqual([
      ["go.mod", false],
      ["main.go", true],
    ]);
  });
});
