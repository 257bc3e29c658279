import { useState } from "react";
import { api } from "../api/client";
import { ErrorNote } from "../components/Status";
import { isConflict } from "../lib/runState";

/**
 * ReviewBar approves or rejects a step that waits for review. reason is why
 * it waits when that is not a plain review: a merge conflict with a hand
 * edit names its conflict file there.
 */
export function ReviewBar({ runId, stepId, reason, onDone }: { runId: string; stepId: string; reason?: string | undefined; onDone: () => void }) {
  const conflict = isConflict(reason);
  const [comment, setComment] = useState("");
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<string>();
  const decide = async (approve: boolean) => {
    if (!approve && !comment.trim()) {
      setErr("Say what to change: a rejection's comment becomes the feedback of the next attempt.");
      return;
    }
    setBusy(true);
    setErr(undefined);
    try {
      await api.review(runId, stepId, { approve, ...(comment.trim() ? { comment: comment.trim() } : {}) });
      setComment("");
      onDone();
    } catch (e) {
      setErr(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="review-bar" data-testid="review-bar">
      <strong>{conflict ? "This step waits for you: its answer conflicts with a hand edit." : "This step waits for your review."}</strong>
      {reason && (
        <pre className="code error-output review-reason" data-testid="review-reason" data-conflict={conflict ? "true" : "false"}>
          {reason}
        </pre>
      )}
      {conflict && (
        <p className="small muted" data-testid="review-conflict-help">
          Resolve the conflict in the file on disk (the marked-up versions are under .factory/conflicts/), then Approve to keep the files as they are,
          or Reject to have the step generate them again with your comment.
        </p>
      )}
      <textarea value={comment} onChange={(e) => setComment(e.target.value)} placeholder="comment (required to reject)" rows={2} data-testid="review-comment" />
      <div className="row">
        <button className="primary" disabled={busy} onClick={() => void decide(true)} data-testid="approve">
          Approve
        </button>
        <button className="danger" disabled={busy} onClick={() => void decide(false)} data-testid="reject">
          Reject
        </button>
      </div>
      <ErrorNote error={err} />
    </div>
  );
}
