import { useState } from "react";
import { api } from "../api/client";
import type { Artifact } from "../api/types";
import { DiffView } from "../components/DiffView";
import { ErrorNote } from "../components/Status";
import { useAsync, blob } from "../hooks/data";
import { previousVersion } from "../lib/diff";
import { formatBytes } from "../lib/time";

function FileContent({ file, all }: { file: Artifact; all: readonly Artifact[] }) {
  const prev = previousVersion(all, file);
  const content = useAsync(async () => {
    const [now, before] = await Promise.all([blob(file.sha256), prev ? blob(prev.sha256) : Promise.resolve(undefined)]);
    return { now, before };
  }, [file.sha256, prev?.sha256]);
  const [showDiff, setShowDiff] = useState(true);
  if (content.error) return <ErrorNote error={content.error} />;
  if (!content.data) return <div className="muted">loading…</div>;
  const { now, before } = content.data;
  return (
    <div className="file-content">
      {before !== undefined && (
        <div className="row small">
          <label className="inline">
            <input type="checkbox" checked={showDiff} onChange={(e) => setShowDiff(e.target.checked)} /> diff against attempt {prev?.attempt}
          </label>
        </div>
      )}
      {before !== undefined && showDiff ? <DiffView before={before} after={now} testId="file-diff" /> : <pre className="code">{now}</pre>}
    </div>
  );
}

/** StepFiles lists the files an attempt wrote, each with its content or diff. */
export function StepFiles({ runId, files, all }: { runId: string; files: Artifact[]; all: readonly Artifact[] }) {
  const [open, setOpen] = useState<string>();
  const [err, setErr] = useState<string>();
  if (files.length === 0) return <p className="muted">No files written.</p>;
  const openInEditor = async (path: string) => {
    setErr(undefined);
    try {
      await api.openFile(runId, path);
    } catch (e) {
      setErr(e instanceof Error ? e.message : String(e));
    }
  };
  return (
    <ul className="files">
      <ErrorNote error={err} />
      {files.map((f) => {
        const changed = previousVersion(all, f);
        return (
          <li key={f.path} data-testid="step-file" data-path={f.path}>
            <div className="file-row">
              <button className="link" onClick={() => setOpen(open === f.path ? undefined : f.path)} aria-expanded={open === f.path}>
                {open === f.path ? "▾" : "▸"} {f.path}
              </button>
              <span className="muted small">{formatBytes(f.size)}</span>
              {changed && <span className="mini">changed since attempt {changed.attempt}</span>}
              {(f.sections?.length ?? 0) > 0 && <span className="muted small">from {f.sections!.join(", ")}</span>}
              <span className="spacer" />
              <button className="link small" onClick={() => void openInEditor(f.path)} data-testid="open-in-editor">
                open in editor
              </button>
            </div>
            {open === f.path && <FileContent file={f} all={all} />}
          </li>
        );
      })}
    </ul>
  );
}
