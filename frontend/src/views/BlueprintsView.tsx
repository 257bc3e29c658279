import { useMemo, useState } from "react";
import { api } from "../api/client";
import type { Diagnostic } from "../api/types";
import { StepGraph } from "../components/StepGraph";
import { ErrorNote, Loading } from "../components/Status";
import { useAsync } from "../hooks/data";
import { navigate } from "../hooks/route";
import { fromBlueprintSteps } from "../lib/graph";
import { useRunsStore } from "../store/events";
import { useListKeys } from "../store/ui";
import { NewRunForm } from "./NewRunForm";

/** Diagnostics lists lint errors as file:line:col: message. */
export function Diagnostics({ list }: { list: Diagnostic[] | null | undefined }) {
  if (!list?.length) return null;
  return (
    <ul className="diagnostics" data-testid="diagnostics">
      {list.map((d, i) => (
        <li key={i}>
          <code>
            {d.path}:{d.line}:{d.col}
          </code>
          : {d.message}
        </li>
      ))}
    </ul>
  );
}

/** BlueprintsView lists the workspace's blueprints. */
export function BlueprintsView() {
  const bps = useAsync(() => api.blueprints(), []);
  const list = bps.data ?? [];
  const [active, setActive] = useState(-1);
  useListKeys({
    move: (d) => setActive((i) => Math.min(list.length - 1, Math.max(0, i + d))),
    open: () => {
      const b = list[active];
      if (b) navigate({ view: "blueprint", id: b.id });
    },
  });
  return (
    <section className="view">
      <header className="view-head">
        <h1>Blueprints</h1>
      </header>
      <ErrorNote error={bps.error} />
      {bps.loading && !bps.data && <Loading what="blueprints" />}
      {bps.data && list.length === 0 && <p className="muted empty">No blueprints in this workspace's blueprints/ folder.</p>}
      <ul className="cards">
        {list.map((b, i) => (
          <li key={b.id} className={`card${i === active ? " active" : ""}`} data-testid="blueprint-row" data-id={b.id}>
            <a href={`#/blueprints/${encodeURIComponent(b.id)}`}>
              <strong>{b.id}</strong> {b.title && <span className="muted">— {b.title}</span>}
            </a>
            <div className="muted small">
              {b.steps?.length ?? 0} steps · {b.path} · version {b.version.slice(0, 10)}
            </div>
            <Diagnostics list={b.diagnostics} />
          </li>
        ))}
      </ul>
    </section>
  );
}

/** BlueprintView shows one blueprint: its graph, steps, scope, sections and source. */
export function BlueprintView({ id }: { id: string }) {
  const bp = useAsync(() => api.blueprint(id), [id]);
  const steps = useMemo(() => fromBlueprintSteps(bp.data?.steps ?? []), [bp.data]);
  const [starting, setStarting] = useState(false);
  if (bp.error) return <ErrorNote error={bp.error} />;
  if (!bp.data) return <Loading what="blueprint" />;
  const b = bp.data;
  return (
    <section className="view blueprint-view" data-testid="blueprint">
      <header className="view-head">
        <h1>
          {b.id} {b.title && <span className="muted">— {b.title}</span>}
        </h1>
        <span className="muted small">{b.path}</span>
        <span className="spacer" />
        <button
          onClick={() => {
            const runs = useRunsStore.getState();
            runs.setFilter({ ...runs.filter, blueprint: b.id });
            navigate({ view: "runs" });
          }}
        >
          Its runs
        </button>
        <button className="primary" onClick={() => setStarting(true)} data-testid="new-run">
          Run…
        </button>
      </header>
      {starting && <NewRunForm initialBlueprint={b.id} onClose={() => setStarting(false)} />}
      <Diagnostics list={b.diagnostics} />
      <div className="row small">
        <span>model: {b.model || "—"}</span>
        {Object.entries(b.scope ?? {}).map(([k, v]) => (
          <span key={k} className="mini">
            {k}={v}
          </span>
        ))}
      </div>
      {steps.length > 0 && <StepGraph steps={steps} />}
      <table className="steps-table small">
        <thead>
          <tr>
            <th>step</th>
            <th>role</th>
            <th>uses</th>
            <th>writes</th>
            <th>validate</th>
            <th>retries</th>
            <th>review</th>
          </tr>
        </thead>
        <tbody>
          {(b.steps ?? []).map((s) => (
            <tr key={s.id}>
              <td>{s.id}</td>
              <td>{s.role}</td>
              <td>{s.uses?.join(", ")}</td>
              <td>{s.writes?.join(", ")}</td>
              <td>{s.validate?.join("; ")}</td>
              <td>{s.retries ?? 0}</td>
              <td>{s.review ?? ""}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <details>
        <summary>Sections ({b.sections?.length ?? 0})</summary>
        <ul className="small">
          {(b.sections ?? []).map((s) => (
            <li key={s.id} style={{ paddingLeft: `${(s.level - 1) * 12}px` }}>
              {s.title} <span className="muted">#{s.id} · lines {s.line}–{s.end}</span>
            </li>
          ))}
        </ul>
      </details>
      <details>
        <summary>Source</summary>
        <pre className="code">{b.source}</pre>
      </details>
    </section>
  );
}
