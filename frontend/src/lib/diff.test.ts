import { describe, expect, it } from "vitest";
import { sampleDetail } from "./fixtures";
import { collapse, latestFiles, lineDiff, previousVersion, stats, unifiedRows } from "./diff";

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

describe("unifiedRows", () => {
  it("numbers the lines of a drift's hunks and drops the headers", () => {
    const diff = [
      "--- a/out/orders.go (generated)",
      "+++ b/out/orders.go (on disk)",
      "@@ -1,5 +1,6 @@",
      " package orders",
      " ",
      " func Total() int {",
      "-\treturn 0",
      "+\t// by hand",
      "+\treturn 42",
      " }",
      "",
    ].join("\n");
    const rows = unifiedRows(diff);
    expect(rows).toEqual([
      { type: "same", text: "package orders", oldNo: 1, newNo: 1 },
      { type: "same", text: "", oldNo: 2, newNo: 2 },
      { type: "same", text: "func Total() int {", oldNo: 3, newNo: 3 },
      { type: "del", text: "\treturn 0", oldNo: 4 },
      { type: "add", text: "\t// by hand", newNo: 4 },
      { type: "add", text: "\treturn 42", newNo: 5 },
      { type: "same", text: "}", oldNo: 5, newNo: 6 },
    ]);
    expect(stats(rows)).toEqual({ added: 2, removed: 1 });
  });
  it("folds the lines between and before hunks", () => {
    const diff = ["--- a/x", "+++ b/x", "@@ -4,2 +4,2 @@", "-a", "+A", " b", "@@ -20,1 +20,2 @@", " c", "+d", "\\ No newline at end of file", ""].join("\n");
    expect(unifiedRows(diff)).toEqual([
      { type: "skip", text: "3 unchanged lines" },
      { type: "del", text: "a", oldNo: 4 },
      { type: "add", text: "A", newNo: 4 },
      { type: "same", text: "b", oldNo: 5, newNo: 5 },
      { type: "skip", text: "14 unchanged lines" },
      { type: "same", text: "c", oldNo: 20, newNo: 20 },
      { type: "add", text: "d", newNo: 21 },
    ]);
  });
  it("shows a deleted file as all removed", () => {
    const rows = unifiedRows("--- a/out/gone.go (generated)\n+++ b/out/gone.go (on disk)\n@@ -1,2 +0,0 @@\n-package orders\n-const Gone = true\n");
    expect(rows).toEqual([
      { type: "del", text: "package orders", oldNo: 1 },
      { type: "del", text: "const Gone = true", oldNo: 2 },
    ]);
  });
  it("keeps a note that is no diff", () => {
    expect(unifiedRows("Binary files a/out/logo.png and b/out/logo.png differ\n")).toEqual([
      { type: "skip", text: "Binary files a/out/logo.png and b/out/logo.png differ" },
    ]);
    expect(unifiedRows("")).toEqual([]);
  });
});
