import { useEffect, useMemo, useState } from "react";
import type { Attempt, ModelCall } from "../api/types";
import { ErrorNote, StatusBadge } from "../components/Status";
import { reviewReason, type LiveRun } from "../lib/runState";
import { formatDuration, formatTime, formatTokens, nsToMs, span } from "../lib/time";
import { useRunStore } from "../store/events";
import { ReviewBar } from "./ReviewBar";
import { AnswerView, PromptView } from "./StepCall";
import { StepFiles } from "./StepFiles";

function AttemptTabs({ attempts, n, onPick }: { attempts: Attempt[]; n: number; onPick: (n: number) => void }) {
  if (attempts.length <= 1) return null;
  return (
    <div className="tabs" role="tablist" data-testid="attempt-tabs">
      {attempts.map((a) => (
        <button key={a.n} role="tab" aria-selected={a.n === n} className={`tab status-${a.status}${a.n === n ? " on" : ""}`} onClick={() => onPick(a.n)}>
          attempt {a.n}
        </button>
      ))}
    </div>
  );
}

function CallsTable({ calls }: { calls: ModelCall[] }) {
  if (calls.length === 0) return null;
  return (
    <table className="calls small">
      <thead>
        <tr>
          <th>#</th>
          <th>model</th>
          <th>tokens</th>
          <th>time</th>
          <th>first token</th>
          <th>done</th>
        </tr>
      </thead>
      <tbody>
        {calls.map((c) => (
          <tr key={c.id}>
            <td>{c.seq}</td>
            <td>
              {c.provider}:{c.model}
            </td>
            <td>
              {c.tokens_in}→{c.tokens_out}
            </td>
            <td>{formatDuration(nsToMs(c.duration_ns))}</td>
            <td>{formatDuration(nsToMs(c.first_token_ns))}</td>
            <td>{c.error ? <span className="bad">{c.error}</span> : c.done_reason}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** StepPanel shows one step: prompt, streamed answer, files, errors, gates, tokens, timings. */
export function StepPanel({ live, stepId, onClose }: { live: LiveRun; stepId: string; onClose: () => void }) {
  const reload = useRunStore((s) => s.reload);
  const d = live.detail;
  const step = d.steps.find((s) => s.step === stepId);
  const attempts = useMemo(() => d.attempts.filter((a) => a.step === stepId).sort((a, b) => a.n - b.n), [d.attempts, stepId]);
  const streamedAttempts = Object.keys(live.tokens[stepId] ?? {}).map(Number);
  const latest = attempts[attempts.length - 1]?.n ?? Math.max(0, ...streamedAttempts);
  const [picked, setPicked] = useState<number>();
  useEffect(() => setPicked(undefined), [stepId]);
  const n = picked ?? latest;
  const attempt = attempts.find((a) => a.n === n);
  const calls = d.calls.filter((c) => c.step === stepId && c.attempt === n).sort((a, b) => a.seq - b.seq);
  const files = d.artifacts.filter((a) => a.step === stepId && a.attempt === n).sort((a, b) => a.path.localeCompare(b.path));
  const gates = (live.gates[stepId] ?? []).filter((g) => g.attempt === n || g.attempt === 0);
  const streaming = attempt?.status === "running";
  const reason = reviewReason(step, attempts);

  if (!step) {
    return (
      <aside className="panel" data-testid="step-panel">
        <button className="close" onClick={onClose} aria-label="close">×</button>
        <ErrorNote error={`This run has no step “${stepId}”.`} />
      </aside>
    );
  }
  return (
    <aside className="panel" data-testid="step-panel" data-step={stepId} data-status={step.status}>
      <header className="panel-head">
        <h2>{step.step}</h2>
        <StatusBadge status={step.status} />
        <span className="spacer" />
        <button className="close" onClick={onClose} aria-label="close panel" title="close (Esc)">
          ×
        </button>
      </header>
      <dl className="facts">
        <dt>role</dt>
        <dd>{step.role}</dd>
        <dt>model</dt>
        <dd>{step.model || "—"}</dd>
        <dt>tokens</dt>
        <dd data-testid="step-tokens">
          {formatTokens(step.tokens_in)} in · {formatTokens(step.tokens_out)} out
        </dd>
        <dt>time</dt>
        <dd>
          {formatDuration(span(step.started_at, step.ended_at, Date.now()))} <span className="muted">from {formatTime(step.started_at)}</span>
        </dd>
        {(step.needs?.length ?? 0) > 0 && (
          <>
            <dt>needs</dt>
            <dd>{step.needs!.join(", ")}</dd>
          </>
        )}
        <dt>sections</dt>
        <dd data-testid="step-sections">{step.sections?.length ? step.sections.join(", ") : "—"}</dd>
        {step.cache_hit && (
          <>
            <dt>cache</dt>
            <dd>taken from the cache, no model call</dd>
          </>
        )}
      </dl>
      {step.status === "awaiting_review" && <ReviewBar runId={d.run.id} stepId={stepId} reason={reason} onDone={() => void reload()} />}
      {step.error !== reason && <ErrorNote error={step.error} />}
      <AttemptTabs attempts={attempts} n={n} onPick={setPicked} />
      {attempt && (
        <section className="attempt" data-testid="attempt" data-n={attempt.n} data-status={attempt.status}>
          <div className="row small">
            <StatusBadge status={attempt.status} />
            <span>attempt {attempt.n}</span>
            <span className="muted">{formatDuration(span(attempt.started_at, attempt.ended_at, Date.now()))}</span>
          </div>
          {attempt.feedback && (
            <details className="feedback">
              <summary>feedback given to this attempt</summary>
              <pre className="code">{attempt.feedback}</pre>
            </details>
          )}
          {attempt.error && (
            <pre className="code error-output" data-testid="attempt-error">
              {attempt.error}
            </pre>
          )}
          {gates.map((g, i) => (
            <div key={i} className={`gate gate-${g.status}`} data-testid="gate">
              <strong>gate {g.status}</strong>
              {g.message && <pre className="code">{g.message}</pre>}
            </div>
          ))}
          {attempt.notes && <p className="notes">{attempt.notes}</p>}
        </section>
      )}
      <h3>Prompt</h3>
      <PromptView call={calls[calls.length - 1]} />
      <h3>Answer</h3>
      <AnswerView call={calls[calls.length - 1]} streamed={live.tokens[stepId]?.[n]} live={streaming} />
      <CallsTable calls={calls} />
      <h3>Files</h3>
      <StepFiles runId={d.run.id} files={files} all={d.artifacts} />
    </aside>
  );
}
