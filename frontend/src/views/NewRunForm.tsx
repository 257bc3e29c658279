import { useState, type FormEvent } from "react";
import { api } from "../api/client";
import { ErrorNote } from "../components/Status";
import { useAsync } from "../hooks/data";
import { navigate } from "../hooks/route";

/** NewRunForm starts a run of a blueprint with an optional model and parallelism. */
export function NewRunForm({ onClose, initialBlueprint }: { onClose: () => void; initialBlueprint?: string }) {
  const blueprints = useAsync(() => api.blueprints(), []);
  const models = useAsync(() => api.models(), []);
  const [blueprint, setBlueprint] = useState(initialBlueprint ?? "");
  const [model, setModel] = useState("");
  const [parallel, setParallel] = useState("");
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  const list = blueprints.data ?? [];
  const chosen = blueprint || list[0]?.id || "";
  const modelErrors = Object.entries(models.data?.errors ?? {});

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!chosen) return;
    setBusy(true);
    setError(undefined);
    try {
      const p = Number(parallel);
      const run = await api.startRun({ blueprint: chosen, ...(model ? { model } : {}), ...(p > 0 ? { parallel: p } : {}) });
      onClose();
      navigate({ view: "run", runId: run.id });
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="card new-run" onSubmit={submit} data-testid="new-run-form">
      <h3>New run</h3>
      <label>
        Blueprint
        <select value={chosen} onChange={(e) => setBlueprint(e.target.value)} data-testid="new-run-blueprint" required>
          {list.length === 0 && <option value="">{blueprints.loading ? "loading…" : "no blueprints"}</option>}
          {list.map((b) => (
            <option key={b.id} value={b.id}>
              {b.id}
              {b.title ? ` — ${b.title}` : ""}
              {(b.diagnostics?.length ?? 0) > 0 ? ` (${b.diagnostics!.length} problems)` : ""}
            </option>
          ))}
        </select>
      </label>
      <label>
        Model
        <select value={model} onChange={(e) => setModel(e.target.value)} data-testid="new-run-model">
          <option value="">the blueprint's model</option>
          {(models.data?.models ?? []).map((m) => (
            <option key={`${m.provider}:${m.name}`} value={`${m.provider}:${m.name}`}>
              {m.provider}:{m.name}
            </option>
          ))}
        </select>
      </label>
      <label>
        Parallel steps
        <input type="number" min={1} max={64} placeholder="default" value={parallel} onChange={(e) => setParallel(e.target.value)} data-testid="new-run-parallel" />
      </label>
      {modelErrors.map(([p, msg]) => (
        <div key={p} className="muted small">
          {p}: {msg}
        </div>
      ))}
      <ErrorNote error={error ?? blueprints.error} />
      <div className="row">
        <button type="submit" className="primary" disabled={busy || !chosen} data-testid="start-run">
          {busy ? "Starting…" : "Start"}
        </button>
        <button type="button" onClick={onClose}>
          Cancel
        </button>
      </div>
    </form>
  );
}
