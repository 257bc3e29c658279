import { useState } from "react";
import { DiffView } from "../components/DiffView";
import { ErrorNote } from "../components/Status";
import { blob, useAsync } from "../hooks/data";
import { pairFiles, type StepPair } from "../lib/compare";
import { parsePrompt, promptText } from "../lib/prompt";

async function text(hash: string | undefined, prompt = false): Promise<string> {
  if (!hash) return "";
  const raw = await blob(hash);
  return prompt ? promptText(parsePrompt(raw), raw) : raw;
}

function BlobDiff({ a, b, prompt, testId }: { a?: string | undefined; b?: string | undefined; prompt?: boolean; testId: string }) {
  const r = useAsync(async () => Promise.all([text(a, prompt), text(b, prompt)]), [a, b, prompt]);
  if (r.error) return <ErrorNote error={r.error} />;
  if (!r.data) return <div className="muted">loading…</div>;
  return <DiffView before={r.data[0]} after={r.data[1]} testId={testId} />;
}

/** CompareDetail shows the prompt diff and the file diffs of one compared step. */
export function CompareDetail({ pair }: { pair: StepPair }) {
  const files = pairFiles(pair.a?.files ?? [], pair.b?.files ?? []);
  const [open, setOpen] = useState<string>();
  const pa = pair.a?.lastCall?.prompt_hash;
  const pb = pair.b?.lastCall?.prompt_hash;
  return (
    <div className="compare-detail">
      <h4>Prompt {pa === pb ? <span className="muted small">identical</span> : null}</h4>
      {pa !== pb && <BlobDiff a={pa} b={pb} prompt testId="prompt-diff" />}
      <h4>Files</h4>
      {files.length === 0 && <p className="muted">No files on either side.</p>}
      <ul className="files">
        {files.map((f) => (
          <li key={f.path} data-testid="compare-file" data-same={f.same ? "true" : "false"}>
            <button className="link" onClick={() => setOpen(open === f.path ? undefined : f.path)} disabled={f.same}>
              {f.same ? "=" : open === f.path ? "▾" : "▸"} {f.path}
            </button>{" "}
            <span className="muted small">{f.same ? "same" : !f.a ? "only in B" : !f.b ? "only in A" : "differs"}</span>
            {open === f.path && <BlobDiff a={f.a?.sha256} b={f.b?.sha256} testId="file-diff" />}
          </li>
        ))}
      </ul>
    </div>
  );
}
