import { useEffect, useMemo, useState } from "react";
import { api } from "../api/client";
import { STATUSES, type Run } from "../api/types";
import { ErrorNote, Loading, StatusBadge } from "../components/Status";
import { VirtualList } from "../components/VirtualList";
import { useAsync } from "../hooks/data";
import { navigate } from "../hooks/route";
import { formatDuration, formatTime, formatTokens, span } from "../lib/time";
import { useRunsStore } from "../store/events";
import { useListKeys } from "../store/ui";
import { NewRunForm } from "./NewRunForm";

function RunRow({ run, active, picked, onPick }: { run: Run; active: boolean; picked: boolean; onPick: (id: string) => void }) {
  return (
    <div className={`run-row${active ? " active" : ""}`} data-testid="run-row" data-run-id={run.id} data-status={run.status}>
      <input type="checkbox" checked={picked} onChange={() => onPick(run.id)} title="pick to compare" aria-label="pick to compare" />
      <a href={`#/runs/${encodeURIComponent(run.id)}`} className="run-link">
        <StatusBadge status={run.status} />
        <span className="bp">{run.blueprint}</span>
        <span className="model muted">{run.model}</span>
        <span className="num" title={`${run.tokens_in} in / ${run.tokens_out} out, ${run.calls} calls`}>
          {formatTokens(run.tokens_in)}→{formatTokens(run.tokens_out)}
        </span>
        <span className="num">{formatDuration(span(run.started_at, run.ended_at, Date.now()))}</span>
        <span className="time muted">{formatTime(run.started_at)}</span>
        <span className="id muted">{run.id.slice(0, 8)}</span>
      </a>
    </div>
  );
}

/** RunsView lists runs with filters, a compare picker and the new-run form. */
export function RunsView() {
  const { runs, error, filter, setFilter, load } = useRunsStore();
  const blueprints = useAsync(() => api.blueprints(), []);
  const [active, setActive] = useState(-1);
  const [picked, setPicked] = useState<string[]>([]);
  const [creating, setCreating] = useState(false);
  useEffect(() => void load(), [load]);

  const list = useMemo(() => runs ?? [], [runs]);
  useListKeys({
    move: (d) => setActive((i) => Math.min(list.length - 1, Math.max(0, i + d))),
    open: () => {
      const r = list[active];
      if (r) navigate({ view: "run", runId: r.id });
    },
    close: () => {
      if (!creating) return false;
      setCreating(false);
      return true;
    },
  });
  const pick = (id: string) => setPicked((p) => (p.includes(id) ? p.filter((x) => x !== id) : [...p, id].slice(-2)));

  return (
    <section className="view runs-view">
      <header className="view-head">
        <h1>Runs</h1>
        <select value={filter.blueprint ?? ""} onChange={(e) => setFilter({ ...filter, blueprint: e.target.value || undefined })} data-testid="filter-blueprint" aria-label="blueprint">
          <option value="">all blueprints</option>
          {(blueprints.data ?? []).map((b) => (
            <option key={b.id} value={b.id}>
              {b.id}
            </option>
          ))}
        </select>
        <select value={filter.status ?? ""} onChange={(e) => setFilter({ ...filter, status: e.target.value || undefined })} data-testid="filter-status" aria-label="status">
          <option value="">any status</option>
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {s.replace("_", " ")}
            </option>
          ))}
        </select>
        <span className="spacer" />
        <button disabled={picked.length !== 2} onClick={() => navigate({ view: "compare", a: picked[0]!, b: picked[1]! })} data-testid="compare-picked">
          Compare {picked.length}/2
        </button>
        <button className="primary" onClick={() => setCreating(true)} data-testid="new-run">
          New run
        </button>
      </header>
      {creating && <NewRunForm onClose={() => setCreating(false)} {...(filter.blueprint ? { initialBlueprint: filter.blueprint } : {})} />}
      <ErrorNote error={error} />
      {!runs && !error && <Loading what="runs" />}
      {runs && list.length === 0 && <p className="muted empty">No runs yet. Start one with “New run”.</p>}
      {list.length > 0 && (
        <VirtualList
          testId="runs-list"
          items={list}
          rowHeight={40}
          active={active}
          render={(r, i) => <RunRow run={r} active={i === active} picked={picked.includes(r.id)} onPick={pick} />}
        />
      )}
    </section>
  );
}
