import { useMemo, useState } from "react";
import { collapse, lineDiff, stats } from "../lib/diff";

/** DiffView shows a line diff of two texts, unchanged stretches folded. */
export function DiffView({ before, after, testId }: { before: string; after: string; testId?: string }) {
  const [full, setFull] = useState(false);
  const rows = useMemo(() => lineDiff(before, after), [before, after]);
  const shown = useMemo(() => (full ? rows : collapse(rows, 3)), [rows, full]);
  const s = stats(rows);
  return (
    <div className="diff" data-testid={testId ?? "diff"}>
      <div className="diff-head">
        <span className="add">+{s.added}</span> <span className="del">−{s.removed}</span>
        {s.added === 0 && s.removed === 0 && <span className="muted"> identical</span>}
        <button className="link" onClick={() => setFull(!full)}>
          {full ? "fold unchanged" : "show all"}
        </button>
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
