import { useMemo, useState, type ReactNode } from "react";
import { collapse, lineDiff, stats, unifiedRows, type DiffRow } from "../lib/diff";

/** DiffRows renders diff rows under a head with their counts. */
function DiffRows({ rows, shown, testId, children }: { rows: readonly DiffRow[]; shown: readonly DiffRow[]; testId: string; children?: ReactNode }) {
  const s = stats(rows);
  return (
    <div className="diff" data-testid={testId}>
      <div className="diff-head">
        <span className="add">+{s.added}</span> <span className="del">−{s.removed}</span>
        {s.added === 0 && s.removed === 0 && <span className="muted"> identical</span>}
        {children}
      </div>
      <pre className="diff-body">
        {shown.map((r, i) => (
          <div key={i} className={`diff-row ${r.type}`}>
            <span className="ln">{r.oldNo ?? ""}</span>
            <span className="ln">{r.newNo ?? ""}</span>
            <span className="mark">{r.type === "add" ? "+" : r.type === "del" ? "−" : r.type === "skip" ? "⋯" : " "}</span>
            <span className="text">{r.text}</span>
          </div>
        ))}
      </pre>
    </div>
  );
}

/** DiffView shows a line diff of two texts, unchanged stretches folded. */
export function DiffView({ before, after, testId }: { before: string; after: string; testId?: string }) {
  const [full, setFull] = useState(false);
  const rows = useMemo(() => lineDiff(before, after), [before, after]);
  const shown = useMemo(() => (full ? rows : collapse(rows, 3)), [rows, full]);
  return (
    <DiffRows rows={rows} shown={shown} testId={testId ?? "diff"}>
      <button className="link" onClick={() => setFull(!full)}>
        {full ? "fold unchanged" : "show all"}
      </button>
    </DiffRows>
  );
}

/** UnifiedDiffView shows a unified diff text (as a drift reports it) the way DiffView shows a line diff. */
export function UnifiedDiffView({ diff, testId }: { diff: string; testId?: string }) {
  const rows = useMemo(() => unifiedRows(diff), [diff]);
  return <DiffRows rows={rows} shown={rows} testId={testId ?? "diff"} />;
}
