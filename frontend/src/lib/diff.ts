// Diff helpers: line diffs as rows for rendering, and the lookups that find
// the version of a file an earlier attempt wrote.

import { diffLines } from "diff";
import type { Artifact } from "../api/types";

/** One rendered line of a diff. */
export interface DiffRow {
  type: "same" | "add" | "del" | "skip";
  text: string;
  oldNo?: number;
  newNo?: number;
}

function splitLines(v: string): string[] {
  const lines = v.split("\n");
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  return lines;
}

/** lineDiff diffs two texts into rows with old and new line numbers. */
export function lineDiff(a: string, b: string): DiffRow[] {
  const rows: DiffRow[] = [];
  let oldNo = 1;
  let newNo = 1;
  for (const part of diffLines(a, b)) {
    for (const text of splitLines(part.value)) {
      if (part.added) rows.push({ type: "add", text, newNo: newNo++ });
      else if (part.removed) rows.push({ type: "del", text, oldNo: oldNo++ });
      else rows.push({ type: "same", text, oldNo: oldNo++, newNo: newNo++ });
    }
  }
  return rows;
}

/** collapse hides runs of unchanged lines longer than 2*context behind a "skip" row. */
export function collapse(rows: readonly DiffRow[], context = 3): DiffRow[] {
  const out: DiffRow[] = [];
  let i = 0;
  while (i < rows.length) {
    if (rows[i]!.type !== "same") {
      out.push(rows[i]!);
      i++;
      continue;
    }
    let j = i;
    while (j < rows.length && rows[j]!.type === "same") j++;
    const head = i === 0 ? 0 : context;
    const tail = j === rows.length ? 0 : context;
    if (j - i > head + tail + 1) {
      out.push(...rows.slice(i, i + head));
      out.push({ type: "skip", text: `${j - i - head - tail} unchanged lines` });
      out.push(...rows.slice(j - tail, j));
    } else {
      out.push(...rows.slice(i, j));
    }
    i = j;
  }
  return out;
}

/** stats counts added and removed lines. */
export function stats(rows: readonly DiffRow[]): { added: number; removed: number } {
  let added = 0;
  let removed = 0;
  for (const r of rows) {
    if (r.type === "add") added++;
    else if (r.type === "del") removed++;
  }
  return { added, removed };
}

/** previousVersion finds the same file written by the latest earlier attempt of the step. */
export function previousVersion(artifacts: readonly Artifact[], a: Artifact): Artifact | undefined {
  let best: Artifact | undefined;
  for (const x of artifacts) {
    if (x.step !== a.step || x.path !== a.path || x.attempt >= a.attempt) continue;
    if (!best || x.attempt > best.attempt) best = x;
  }
  return best;
}

/** latestFiles keeps, per path, the file of the step's latest attempt that wrote it, sorted by path. */
export function latestFiles(artifacts: readonly Artifact[], step: string): Artifact[] {
  const byPath = new Map<string, Artifact>();
  for (const a of artifacts) {
    if (a.step !== step) continue;
    const cur = byPath.get(a.path);
    if (!cur || a.attempt > cur.attempt) byPath.set(a.path, a);
  }
  return [...byPath.values()].sort((x, y) => x.path.localeCompare(y.path));
}

const HUNK = /^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@/;

/**
 * unifiedRows turns a unified diff (as the workspace's drift reports it)
 * into rows with line numbers: the file headers are dropped, a gap between
 * hunks is a "skip" row. Text that is no diff at all (a "Binary files
 * differ" or "too large" note) is one "skip" row per line.
 */
export function unifiedRows(diff: string): DiffRow[] {
  const rows: DiffRow[] = [];
  let oldNo = 0;
  let newNo = 0;
  let inHunk = false;
  for (const line of splitLines(diff)) {
    const h = HUNK.exec(line);
    if (h) {
      const o = Number(h[1]);
      const n = Number(h[2]);
      // Lines before the first hunk, or between two hunks, are not shown.
      if ((inHunk && (o > oldNo || n > newNo)) || (!inHunk && (o > 1 || n > 1))) {
        const hidden = inHunk ? Math.max(o - oldNo, n - newNo) : Math.max(o, n) - 1;
        rows.push({ type: "skip", text: `${hidden} unchanged line${hidden === 1 ? "" : "s"}` });
      }
      // "-0,0" / "+0,0" name the line before an empty side.
      oldNo = Math.max(o, 1);
      newNo = Math.max(n, 1);
      inHunk = true;
      continue;
    }
    if (!inHunk) {
      if (line.startsWith("--- ") || line.startsWith("+++ ")) continue;
      rows.push({ type: "skip", text: line });
      continue;
    }
    const mark = line[0];
    const text = line.slice(1);
    if (mark === "+") rows.push({ type: "add", text, newNo: newNo++ });
    else if (mark === "-") rows.push({ type: "del", text, oldNo: oldNo++ });
    else if (mark === " " || line === "") rows.push({ type: "same", text, oldNo: oldNo++, newNo: newNo++ });
    else if (mark === "\\") continue; // "\ No newline at end of file"
    else rows.push({ type: "skip", text: line });
  }
  return rows;
}
