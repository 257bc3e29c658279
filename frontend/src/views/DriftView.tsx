import { useCallback, useEffect, useRef, useState } from "react";
import { api } from "../api/client";
import type { Drift } from "../api/types";
import { UnifiedDiffView } from "../components/DiffView";
import { ErrorNote, Loading } from "../components/Status";
import { applyDriftEvents, freshEvents, removeDrift, revertNote, sortDrifts } from "../lib/drift";
import { formatTime } from "../lib/time";
import { useDriftStore } from "../store/events";

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** DriftRow is one open drift: its path, diff, and the accept and revert actions. */
function DriftRow({ drift, onAccept, onRevert }: { drift: Drift; onAccept: () => Promise<void>; onRevert: () => Promise<void> }) {
  const [busy, setBusy] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [err, setErr] = useState<string>();
  const act = async (fn: () => Promise<void>) => {
    setBusy(true);
    setErr(undefined);
    try {
      await fn();
    } catch (e) {
      setErr(message(e));
    } finally {
      setBusy(false);
      setConfirming(false);
    }
  };
  return (
    <li className="card drift" data-testid="drift-row" data-path={drift.path} data-deleted={drift.deleted ? "true" : "false"}>
      <div className="row">
        <strong className="drift-path">{drift.path}</strong>
        {drift.deleted ? <span className="mini bad">deleted</span> : <span className="mini">edited</span>}
        <span className="muted small" title={drift.seen_at}>
          seen {formatTime(drift.seen_at)}
        </span>
        <span className="spacer" />
        <button
          className="primary"
          disabled={busy}
          onClick={() => void act(onAccept)}
          data-testid="drift-accept"
          title={drift.deleted ? "keep the file deleted: the factory stops tracking it" : "keep the edit: it becomes the generated file's new base"}
        >
          Accept
        </button>
        <button
          className="danger"
          disabled={busy || confirming}
          onClick={() => setConfirming(true)}
          data-testid="drift-revert"
          title="restore the generated content; the version on disk is kept under .factory/reverted/"
        >
          Revert
        </button>
      </div>
      {confirming && (
        <div className="row confirm" data-testid="drift-revert-confirm">
          <span>
            {drift.deleted ? "Restore" : "Replace your edit of"} <code>{drift.path}</code> {drift.deleted ? "with its generated content?" : "with the generated content? The edited version is kept under .factory/reverted/."}
          </span>
          <button className="danger" disabled={busy} onClick={() => void act(onRevert)} data-testid="drift-revert-yes">
            Revert
          </button>
          <button disabled={busy} onClick={() => setConfirming(false)} data-testid="drift-revert-no">
            Keep
          </button>
        </div>
      )}
      <ErrorNote error={err} />
      {drift.diff ? (
        <UnifiedDiffView diff={drift.diff} testId="drift-diff" />
      ) : (
        <p className="muted small">The generated content of this file is not kept: there is no diff to show.</p>
      )}
    </li>
  );
}

/** DriftView lists the open drifts: generated files edited or deleted outside the factory, each to accept or revert. */
export function DriftView() {
  const [drifts, setDrifts] = useState<Drift[]>();
  const [err, setErr] = useState<string>();
  const [note, setNote] = useState<string>();
  const seq = useRef(0);
  const load = useCallback(async () => {
    const n = ++seq.current;
    try {
      const list = sortDrifts(await api.drift());
      if (n === seq.current) {
        setDrifts(list);
        setErr(undefined);
      }
    } catch (e) {
      if (n === seq.current) setErr(message(e));
    }
  }, []);
  useEffect(() => void load(), [load]);

  // The watcher's drift events: a cleared drift leaves at once; an edit or
  // deletion loads the list again soon (the event carries no diff).
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const off = useDriftStore.subscribe((next, prev) => {
      const fresh = freshEvents(next.events, prev.events);
      if (fresh.length === 0) return;
      setDrifts((cur) => (cur ? applyDriftEvents(cur, fresh).list : cur));
      // Loaded again even after a clear only: a load in flight may predate it.
      clearTimeout(timer);
      timer = setTimeout(() => void load(), applyDriftEvents([], fresh).reload ? 150 : 600);
    });
    return () => {
      off();
      clearTimeout(timer);
    };
  }, [load]);

  const settled = (path: string) => {
    seq.current++; // a load in flight may predate the accept or revert
    setDrifts((cur) => (cur ? removeDrift(cur, path) : cur));
    void load();
  };
  const accept = async (path: string) => {
    await api.acceptDrift(path);
    setNote(`Accepted ${path}: the content on disk is now its generated base.`);
    settled(path);
  };
  const revert = async (path: string) => {
    const r = await api.revertDrift(path);
    setNote(revertNote(r));
    settled(path);
  };

  const events = useDriftStore((s) => s.events);
  return (
    <section className="view" data-testid="drift">
      <header className="view-head">
        <h1>Drift</h1>
        <span className="muted small">generated files edited or deleted outside the factory</span>
        <span className="spacer" />
        <button onClick={() => void load()} data-testid="drift-refresh" title="scan the workspace again">
          Refresh
        </button>
      </header>
      {note && (
        <p className="ok" role="status" data-testid="drift-note">
          {note}
        </p>
      )}
      <ErrorNote error={err} />
      {drifts === undefined && !err && <Loading what="drift" />}
      {drifts?.length === 0 && <p className="muted empty" data-testid="drift-empty">Every generated file is as the factory wrote it.</p>}
      {drifts && drifts.length > 0 && (
        <ul className="cards drift-list">
          {drifts.map((d) => (
            <DriftRow key={d.path} drift={d} onAccept={() => accept(d.path)} onRevert={() => revert(d.path)} />
          ))}
        </ul>
      )}
      {events.length > 0 && (
        <details className="drift-events">
          <summary className="muted">Drift events since this window opened ({events.length})</summary>
          <ul className="drift-list small">
            {events.map((e, i) => (
              <li key={i} data-testid="drift-event">
                <span className="muted">{formatTime(e.time)}</span> <strong>{e.name ?? ""}</strong> {e.status} {e.message}
              </li>
            ))}
          </ul>
        </details>
      )}
    </section>
  );
}
