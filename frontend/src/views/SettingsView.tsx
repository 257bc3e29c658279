import { useEffect, useState, type FormEvent } from "react";
import { api } from "../api/client";
import type { SandboxMode, Settings, SettingsUpdate } from "../api/types";
import { ErrorNote, Loading } from "../components/Status";
import { useAsync } from "../hooks/data";

/** SettingsView edits the providers, parallelism and sandbox. */
export function SettingsView() {
  const loaded = useAsync(() => api.settings(), []);
  const [s, setS] = useState<Settings>();
  const [key, setKey] = useState("");
  const [saved, setSaved] = useState(false);
  const [err, setErr] = useState<string>();
  useEffect(() => {
    if (loaded.data) setS(loaded.data);
  }, [loaded.data]);
  if (loaded.error) return <ErrorNote error={loaded.error} />;
  if (!s) return <Loading what="settings" />;

  const save = async (e: FormEvent) => {
    e.preventDefault();
    setErr(undefined);
    setSaved(false);
    const upd: SettingsUpdate = { ollama_host: s.ollama_host, openai_base_url: s.openai_base_url, parallel: s.parallel, sandbox: s.sandbox };
    if (key !== "") upd.openai_api_key = key;
    try {
      setS(await api.saveSettings(upd));
      setKey("");
      setSaved(true);
    } catch (x) {
      setErr(x instanceof Error ? x.message : String(x));
    }
  };
  return (
    <section className="view settings-view">
      <header className="view-head">
        <h1>Settings</h1>
      </header>
      <form className="card form" onSubmit={save} data-testid="settings-form">
        <label>
          Ollama host
          <input value={s.ollama_host} onChange={(e) => setS({ ...s, ollama_host: e.target.value })} placeholder="http://127.0.0.1:11434" data-testid="settings-ollama" />
        </label>
        <label>
          OpenAI-compatible base URL
          <input value={s.openai_base_url} onChange={(e) => setS({ ...s, openai_base_url: e.target.value })} placeholder="https://api.example.com/v1" data-testid="settings-openai-url" />
        </label>
        <label>
          OpenAI-compatible API key
          <input type="password" autoComplete="off" value={key} onChange={(e) => setKey(e.target.value)} placeholder={s.openai_api_key_set ? "set — type to replace" : "not set"} data-testid="settings-openai-key" />
        </label>
        <label>
          Parallel steps
          <input type="number" min={1} max={64} value={s.parallel} onChange={(e) => setS({ ...s, parallel: Number(e.target.value) })} data-testid="settings-parallel" />
        </label>
        <label>
          Sandbox for gate commands
          <select value={s.sandbox} onChange={(e) => setS({ ...s, sandbox: e.target.value as SandboxMode })} data-testid="settings-sandbox">
            <option value="auto">auto — use it when available</option>
            <option value="required">required — refuse to run gates without it</option>
            <option value="off">off</option>
          </select>
        </label>
        <ErrorNote error={err} />
        <div className="row">
          <button className="primary" type="submit" data-testid="settings-save">
            Save
          </button>
          {saved && <span className="ok" data-testid="settings-saved">Saved.</span>}
        </div>
      </form>
    </section>
  );
}
