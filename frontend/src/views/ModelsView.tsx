import { useEffect, useMemo, useState, type FormEvent } from "react";
import { api } from "../api/client";
import type { ModelInfo } from "../api/types";
import { ErrorNote, Loading } from "../components/Status";
import { useAsync } from "../hooks/data";
import { percent, type PullState } from "../lib/pull";
import { formatBytes, formatTime } from "../lib/time";
import { usePullStore } from "../store/events";

function PullProgress({ name, p }: { name: string; p: PullState }) {
  const pct = percent(p);
  return (
    <div className="pull" data-testid="pull-progress" data-name={name} data-done={p.done ? "true" : "false"}>
      <span>{name}</span>
      <progress max={100} {...(pct !== undefined ? { value: pct } : {})} />
      <span className="small muted">
        {p.error ? <span className="bad">{p.error}</span> : `${p.status}${pct !== undefined ? ` ${pct}%` : ""}`}
        {p.total > 0 && !p.done && ` (${formatBytes(p.completed)} of ${formatBytes(p.total)})`}
      </span>
    </div>
  );
}

function ModelRow({ m, onDelete }: { m: ModelInfo; onDelete: (m: ModelInfo) => void }) {
  return (
    <tr data-testid="model-row" data-name={m.name} data-provider={m.provider}>
      <td>{m.name}</td>
      <td>{m.family ?? ""}</td>
      <td>{m.parameters ?? ""}</td>
      <td>{m.size ? formatBytes(m.size) : ""}</td>
      <td className="muted">{formatTime(m.modified)}</td>
      <td>
        {m.provider === "ollama" && (
          <button className="link danger" onClick={() => onDelete(m)} data-testid="delete-model">
            delete
          </button>
        )}
      </td>
    </tr>
  );
}

/** ModelsView lists models per provider, pulls with progress and deletes. */
export function ModelsView() {
  const models = useAsync(() => api.models(), []);
  const pulls = usePullStore((s) => s.pulls);
  const [name, setName] = useState("");
  const [err, setErr] = useState<string>();
  const byProvider = useMemo(() => {
    const m = new Map<string, ModelInfo[]>();
    for (const x of models.data?.models ?? []) m.set(x.provider, [...(m.get(x.provider) ?? []), x]);
    for (const p of Object.keys(models.data?.errors ?? {})) if (!m.has(p)) m.set(p, []);
    return [...m.entries()].sort(([a], [b]) => a.localeCompare(b));
  }, [models.data]);
  const doneCount = Object.values(pulls).filter((p) => p.done && !p.error).length;
  const { reload } = models;
  useEffect(() => {
    if (doneCount > 0) reload();
  }, [doneCount, reload]);

  const pull = async (e: FormEvent) => {
    e.preventDefault();
    const n = name.trim();
    if (!n) return;
    setErr(undefined);
    try {
      await api.pullModel(n);
      setName("");
    } catch (x) {
      setErr(x instanceof Error ? x.message : String(x));
    }
  };
  const del = async (m: ModelInfo) => {
    if (!window.confirm(`Delete ${m.name} from ${m.provider}?`)) return;
    setErr(undefined);
    try {
      await api.deleteModel(m.name);
      reload();
    } catch (x) {
      setErr(x instanceof Error ? x.message : String(x));
    }
  };
  return (
    <section className="view models-view">
      <header className="view-head">
        <h1>Models</h1>
        <span className="spacer" />
        <form className="row" onSubmit={pull}>
          <input value={name} onChange={(e) => setName(e.target.value)} placeholder="model to pull, e.g. qwen2.5-coder:7b" data-testid="pull-name" aria-label="model name" />
          <button className="primary" type="submit" data-testid="pull-model" disabled={!name.trim()}>
            Pull
          </button>
        </form>
      </header>
      <ErrorNote error={err ?? models.error} />
      {Object.entries(pulls).map(([n, p]) => (
        <PullProgress key={n} name={n} p={p} />
      ))}
      {models.loading && !models.data && <Loading what="models" />}
      {byProvider.map(([provider, list]) => (
        <div key={provider} className="provider" data-testid="provider" data-provider={provider}>
          <h2>{provider}</h2>
          {models.data?.errors?.[provider] && <ErrorNote error={models.data.errors[provider]} />}
          {list.length === 0 ? (
            <p className="muted">No models.</p>
          ) : (
            <table className="models-table">
              <thead>
                <tr>
                  <th>name</th>
                  <th>family</th>
                  <th>parameters</th>
                  <th>size</th>
                  <th>modified</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {list.map((m) => (
                  <ModelRow key={m.name} m={m} onDelete={(x) => void del(x)} />
                ))}
              </tbody>
            </table>
          )}
        </div>
      ))}
    </section>
  );
}
