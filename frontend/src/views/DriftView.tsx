import { formatTime } from "../lib/time";
import { useDriftStore } from "../store/events";

/** DriftView lists the hand edits to generated files reported since the window opened. */
export function DriftView() {
  const events = useDriftStore((s) => s.events);
  return (
    <section className="view" data-testid="drift">
      <header className="view-head">
        <h1>Drift</h1>
      </header>
      {events.length === 0 && <p className="muted empty">No hand edits to generated files reported since this window opened.</p>}
      <ul className="drift-list">
        {events.map((e, i) => (
          <li key={i} data-testid="drift-row">
            <span className="muted">{formatTime(e.time)}</span> <strong>{e.name ?? e.step ?? ""}</strong> {e.status} {e.message}
            {e.run_id && (
              <>
                {" "}
                <a href={`#/runs/${encodeURIComponent(e.run_id)}${e.step ? `/steps/${encodeURIComponent(e.step)}` : ""}`}>run {e.run_id.slice(0, 8)}</a>
              </>
            )}
            {e.text && <pre className="code small">{e.text}</pre>}
          </li>
        ))}
      </ul>
    </section>
  );
}
