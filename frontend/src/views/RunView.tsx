import { useEffect, useMemo, useState } from "react";
import { api } from "../api/client";
import { StepGraph } from "../components/StepGraph";
import { ErrorNote, Loading, StatusBadge } from "../components/Status";
import { navigate } from "../hooks/route";
import { fromStepRuns, neighbour, topoOrder } from "../lib/graph";
import { resumable, terminal } from "../lib/runState";
import { formatDuration, formatTime, formatTokens, span } from "../lib/time";
import { useRunStore } from "../store/events";
import { useListKeys } from "../store/ui";
import { StepPanel } from "./StepPanel";

/** useOpenRun loads runId into the run store and keeps it there. */
export function useOpenRun(runId: string) {
  const open = useRunStore((s) => s.open);
  useEffect(() => void open(runId), [open, runId]);
  const live = useRunStore((s) => (s.runId === runId ? s.live : undefined));
  const error = useRunStore((s) => (s.runId === runId ? s.error : undefined));
  return { live, error };
}

function RunHeader({ runId }: { runId: string }) {
  const live = useRunStore((s) => s.live);
  const reload = useRunStore((s) => s.reload);
  const [err, setErr] = useState<string>();
  const [resuming, setResuming] = useState(false);
  if (!live) return null;
  const r = live.detail.run;
  const cancel = async () => {
    setErr(undefined);
    try {
      await api.cancelRun(r.id);
    } catch (e) {
      setErr(e instanceof Error ? e.message : String(e));
    }
  };
  // Resume continues the run in the background; its events then update the
  // graph as for a new run.
  const resume = async () => {
    setErr(undefined);
    setResuming(true);
    try {
      await api.resume(r.id);
      await reload();
    } catch (e) {
      setErr(e instanceof Error ? e.message : String(e));
    } finally {
      setResuming(false);
    }
  };
  return (
    <header className="view-head run-head">
      <h1>
        <a href={`#/blueprints/${encodeURIComponent(r.blueprint)}`}>{r.blueprint}</a> <span className="muted id">{r.id.slice(0, 12)}</span>
      </h1>
      <StatusBadge status={r.status} />
      <span className="muted" title="model">{r.model}</span>
      <span title={`${r.calls} model calls`}>
        {formatTokens(r.tokens_in)}→{formatTokens(r.tokens_out)} tokens
      </span>
      <span>{formatDuration(span(r.started_at, r.ended_at, Date.now()))}</span>
      <span className="muted">{formatTime(r.started_at)}</span>
      {r.kind && <span className="mini">{r.kind} of {r.parent_id?.slice(0, 8)}</span>}
      <span className="spacer" />
      <a className="button" href={`#/runs/${encodeURIComponent(runId)}/timeline`} data-testid="open-timeline">
        Timeline
      </a>
      <a className="button" href={`#/compare/${encodeURIComponent(runId)}`} data-testid="open-compare">
        Compare…
      </a>
      {resumable(r.status) && (
        <button
          className="primary"
          onClick={() => void resume()}
          disabled={resuming}
          data-testid="resume-run"
          title="continue the run: steps that succeeded and whose files are unchanged are kept, the others run again"
        >
          {resuming ? "Resuming…" : "Resume"}
        </button>
      )}
      {!terminal(r.status) && r.status !== "interrupted" && (
        <button className="danger" onClick={cancel} data-testid="cancel-run">
          Cancel run
        </button>
      )}
      <ErrorNote error={err ?? r.error} />
    </header>
  );
}

/** RunView shows a run's live graph and, when a step is selected, its panel. */
export function RunView({ runId, stepId }: { runId: string; stepId?: string | undefined }) {
  const { live, error } = useOpenRun(runId);
  const steps = useMemo(() => fromStepRuns(live?.detail.steps ?? []), [live?.detail.steps]);
  const order = useMemo(() => topoOrder(steps), [steps]);
  const select = (id: string | undefined, replace = false) =>
    navigate(id ? { view: "run", runId, stepId: id } : { view: "run", runId }, replace);
  useListKeys({
    move: (d) => select(neighbour(order, stepId, d), true),
    close: () => {
      if (!stepId) return false;
      select(undefined);
      return true;
    },
  });
  if (error) return <ErrorNote error={error} />;
  if (!live) return <Loading what="run" />;
  return (
    <section className="view run-view">
      <RunHeader runId={runId} />
      <div className={`run-body${stepId ? " with-panel" : ""}`}>
        {steps.length === 0 ? <p className="muted empty">No steps recorded yet.</p> : <StepGraph steps={steps} selected={stepId} onSelect={select} />}
        {stepId && <StepPanel live={live} stepId={stepId} onClose={() => select(undefined)} />}
      </div>
    </section>
  );
}
