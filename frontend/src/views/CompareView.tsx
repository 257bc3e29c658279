import { Fragment, useMemo, useState, type ReactNode } from "react";
import { api } from "../api/client";
import { ErrorNote, Loading, StatusBadge } from "../components/Status";
import { useAsync } from "../hooks/data";
import { navigate } from "../hooks/route";
import { differs, pairSteps, type Side } from "../lib/compare";
import { normalize } from "../lib/runState";
import { formatDuration, formatTime, formatTokens } from "../lib/time";
import { CompareDetail } from "./CompareDetail";

function RunPicker({ a, b }: { a?: string | undefined; b?: string | undefined }) {
  const runs = useAsync(() => api.runs({ limit: 300 }), []);
  const [pa, setA] = useState(a ?? "");
  const [pb, setB] = useState(b ?? "");
  const options = (runs.data ?? []).map((r) => (
    <option key={r.id} value={r.id}>
      {r.blueprint} · {r.status} · {formatTime(r.started_at)} · {r.id.slice(0, 8)}
    </option>
  ));
  return (
    <div className="row picker" data-testid="compare-picker">
      <select value={pa} onChange={(e) => setA(e.target.value)} aria-label="run A" data-testid="compare-a">
        <option value="">run A…</option>
        {options}
      </select>
      <select value={pb} onChange={(e) => setB(e.target.value)} aria-label="run B" data-testid="compare-b">
        <option value="">run B…</option>
        {options}
      </select>
      <button className="primary" disabled={!pa || !pb} onClick={() => navigate({ view: "compare", a: pa, b: pb })} data-testid="compare-go">
        Compare
      </button>
      <ErrorNote error={runs.error} />
    </div>
  );
}

function Cell({ s, f }: { s: Side | undefined; f: (s: Side) => ReactNode }) {
  return <td>{s ? f(s) : <span className="muted">—</span>}</td>;
}

const COLUMNS: [string, (s: Side) => ReactNode][] = [
  ["status", (s) => <StatusBadge status={s.status} />],
  ["attempts", (s) => `${s.attempts}${s.cacheHit ? " (cached)" : ""}`],
  ["model", (s) => s.model],
  ["tokens", (s) => `${formatTokens(s.tokensIn)}→${formatTokens(s.tokensOut)}`],
  ["time", (s) => formatDuration(s.durationMs)],
  ["gate errors", (s) => (s.errors.length ? <pre className="code small">{s.errors.join("\n")}</pre> : "—")],
];

/** CompareView lines two runs up step by step. */
export function CompareView({ a, b }: { a?: string | undefined; b?: string | undefined }) {
  const cmp = useAsync(() => (a && b ? api.compare(a, b) : Promise.resolve(undefined)), [a, b]);
  const pairs = useMemo(() => (cmp.data ? pairSteps(normalize(cmp.data.a), normalize(cmp.data.b), Date.now()) : []), [cmp.data]);
  const [open, setOpen] = useState<string>();
  return (
    <section className="view compare-view" data-testid="compare">
      <header className="view-head">
        <h1>Compare runs</h1>
      </header>
      <RunPicker a={a} b={b} />
      <ErrorNote error={cmp.error} />
      {a && b && cmp.loading && !cmp.data && <Loading what="runs" />}
      {cmp.data && (
        <table className="compare-table">
          <thead>
            <tr>
              <th>step</th>
              <th>
                A: <a href={`#/runs/${encodeURIComponent(cmp.data.a.run.id)}`}>{cmp.data.a.run.blueprint} {cmp.data.a.run.id.slice(0, 8)}</a>
              </th>
              <th>
                B: <a href={`#/runs/${encodeURIComponent(cmp.data.b.run.id)}`}>{cmp.data.b.run.blueprint} {cmp.data.b.run.id.slice(0, 8)}</a>
              </th>
            </tr>
          </thead>
          <tbody>
            {pairs.map((p) => (
              <Fragment key={p.step}>
                {COLUMNS.map(([label, f], i) => (
                  <tr key={label} className={`${i === 0 ? "step-first" : ""}${differs(p) ? " differs" : ""}`} data-testid={i === 0 ? "compare-step" : undefined} data-step={p.step}>
                    <th>
                      {i === 0 ? (
                        <button className="link" onClick={() => setOpen(open === p.step ? undefined : p.step)}>
                          {open === p.step ? "▾" : "▸"} {p.step}
                        </button>
                      ) : (
                        <span className="muted small">{label}</span>
                      )}
                    </th>
                    <Cell s={p.a} f={f} />
                    <Cell s={p.b} f={f} />
                  </tr>
                ))}
                {open === p.step && (
                  <tr>
                    <td colSpan={3}>
                      <CompareDetail pair={p} />
                    </td>
                  </tr>
                )}
              </Fragment>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
