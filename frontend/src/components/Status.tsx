import type { ReactNode } from "react";

/** StatusBadge shows a run or step status in its colour. */
export function StatusBadge({ status }: { status: string }) {
  return (
    <span className={`badge status-${status}`} data-testid="status" data-status={status}>
      {status.replace("_", " ")}
    </span>
  );
}

/** ErrorNote shows an error an operator can act on. */
export function ErrorNote({ error, children }: { error?: string | undefined; children?: ReactNode }) {
  if (!error && !children) return null;
  return (
    <div className="error-note" role="alert" data-testid="error">
      {error}
      {children}
    </div>
  );
}

/** Loading is the placeholder while data loads. */
export function Loading({ what }: { what: string }) {
  return <div className="muted loading">Loading {what}…</div>;
}
