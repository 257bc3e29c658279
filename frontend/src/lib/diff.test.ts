import { describe, expect, it } from "vitest";
import { sampleDetail } from "./fixtures";
import { collapse, latestFiles, lineDiff, previousVersion, stats } from "./diff";

describe("lineDiff", () => {
  it("numbers old and new lines", () => {
    const rows = lineDiff("a\nb\nc\n", "a\nB\nc\nd\n");
    expect(rows).toEqual([
      { type: "same", text: "a", oldNo: 1, newNo: 1 },
      { type: "del", text: "b", oldNo: 2 },
      { type: "add", text: "B", newNo: 2 },
      { type: "same", text: "c", oldNo: 3, newNo: 3 },
      { type: "add", text: "d", newNo: 4 },
    ]);
    expect(stats(rows)).toEqual({ added: 2, removed: 1 });
  });
  it("treats a missing old file as all added", () => {
    expect(stats(lineDiff("", "x\ny"))).toEqual({ added: 2, removed: 0 });
  });
});

describe("collapse", () => {
  const many = Array.from({ length: 20 }, (_, i) => `l${i}`).join("\n");
  it("hides long unchanged stretches", () => {
    const rows = collapse(lineDiff(many, many.replace("l10", "X")), 2);
    expect(rows.filter((r) => r.type === "skip").map((r) => r.text)).toEqual(["8 unchanged lines", "7 unchanged lines"]);
    expect(rows.filter((r) => r.type !== "skip" && r.type !== "same")).toHaveLength(2);
  });
  it("keeps short files whole", () => {
    expect(collapse(lineDiff("a\nb", "a\nc"), 3).some((r) => r.type === "skip")).toBe(false);
  });
});

describe("artifact lookups", () => {
  const arts = sampleDetail().artifacts!;
  it("finds the previous attempt's version", () => {
    expect(previousVersion(arts, arts[1]!)?.sha256).toBe("h1");
    expect(previousVersion(arts, arts[0]!)).toBeUndefined();
    expect(previousVersion(arts, arts[2]!)).toBeUndefined();
  });
  it("keeps the latest file per path", () => {
    expect(latestFiles(arts, "code").map((a) => `${a.path}@${a.attempt}`)).toEqual(["go.mod@2", "main.go@2"]);
    expect(latestFiles(arts, "design")).toEqual([]);
  });
});
