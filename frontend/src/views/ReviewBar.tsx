import { useState } from "react";
import { api } from "../api/client";
import { ErrorNote } from "../components/Status";

/** ReviewBar approves or rejects a step that waits for review. */
export function ReviewBar({ runId, stepId, onDone }: { runId: string; stepId: string; onDone: () => void }) {
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
      <strong>This step waits for your review.</strong>
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
