import { useEffect, useMemo, useRef, useState } from "react";
import { StepGraph } from "../components/StepGraph";
import { ErrorNote, Loading, StatusBadge } from "../components/Status";
import { fromStepRuns } from "../lib/graph";
import { fraction, runStatusAt, stepsAt, timeline, type Timeline } from "../lib/timeline";
import { formatDuration, isSet } from "../lib/time";
import { href } from "../lib/route";
import { navigate } from "../hooks/route";
import { useListKeys } from "../store/ui";
import { useOpenRun } from "./RunView";

const SPEEDS: [string, number][] = [
  ["fit in 20 s", 0],
  ["real time", 1],
  ["×10", 10],
  ["×100", 100],
];

/** usePlayer advances t from start to end while playing. */
function usePlayer(tl: Timeline | undefined, speed: number) {
  const [t, setTState] = useState<number>();
  const [playing, setPlaying] = useState(false);
  const cur = useRef<number | undefined>(undefined);
  const setT = (v: number) => {
    cur.current = v;
    setTState(v);
  };
  useEffect(() => {
    if (!playing || !tl) return;
    const rate = speed === 0 ? (tl.end - tl.start) / 20_000 : speed;
    let frame = 0;
    let last = performance.now();
    if (cur.current === undefined || cur.current >= tl.end) cur.current = tl.start;
    const tick = (now: number) => {
      const next = Math.min(tl.end, (cur.current ?? tl.start) + (now - last) * rate);
      last = now;
      cur.current = next;
      setTState(next);
      if (next >= tl.end) setPlaying(false);
      else frame = requestAnimationFrame(tick);
    };
    frame = requestAnimationFrame(tick);
    return () => cancelAnimationFrame(frame);
  }, [playing, tl, speed]);
  return { t: t ?? tl?.end, setT, playing, setPlaying };
}

function Lanes({ runId, tl, t, onSeek }: { runId: string; tl: Timeline; t: number; onSeek: (t: number) => void }) {
  return (
    <div className="lanes" data-testid="timeline-lanes">
      {tl.lanes.map((l) => (
        <div key={l.step} className="lane">
          <a className="lane-name" href={href({ view: "run", runId, stepId: l.step })}>
            {l.step}
          </a>
          <div className="lane-track">
            {l.bars.map((b, i) => {
              const left = fraction(tl, b.from) * 100;
              const width = Math.max(0.3, (fraction(tl, b.to) - fraction(tl, b.from)) * 100);
              return (
                <div
                  key={i}
                  className={`bar bar-${b.kind} status-${b.status}`}
                  style={{ left: `${left}%`, width: `${width}%` }}
                  title={`${b.label} · ${formatDuration(b.to - b.from)}`}
                  onClick={() => onSeek(b.from)}
                />
              );
            })}
            <div className="cursor" style={{ left: `${fraction(tl, t) * 100}%` }} />
          </div>
        </div>
      ))}
    </div>
  );
}

/** TimelineView replays a run: its events on a time axis and the graph at time t. */
export function TimelineView({ runId }: { runId: string }) {
  const { live, error } = useOpenRun(runId);
  const d = live?.detail;
  const [now, setNow] = useState(() => Date.now());
  const open = !!d && !isSet(d.run.ended_at);
  useEffect(() => {
    if (!open) return;
    const id = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(id);
  }, [open]);
  const tl = useMemo(() => (d ? timeline(d, now) : undefined), [d, now]);
  const [speed, setSpeed] = useState(0);
  const { t, setT, playing, setPlaying } = usePlayer(tl, speed);
  const at = t ?? 0;
  const states = useMemo(() => (d ? stepsAt(d, at) : {}), [d, at]);
  const steps = useMemo(
    () => fromStepRuns(d?.steps ?? []).map((s) => ({ ...s, status: states[s.id]?.status ?? "pending", attempts: states[s.id]?.attempts ?? 0, review: states[s.id]?.status === "awaiting_review", cacheHit: !!s.cacheHit && states[s.id]?.status === "succeeded" })),
    [d?.steps, states],
  );
  const marks = tl?.marks ?? [];
  useListKeys({
    move: (delta) => {
      if (!tl) return;
      const next = delta > 0 ? marks.find((m) => m.t > at) : [...marks].reverse().find((m) => m.t < at);
      if (next) setT(next.t);
    },
    open: () => setPlaying(!playing),
  });
  if (error) return <ErrorNote error={error} />;
  if (!d || !tl) return <Loading what="run" />;
  return (
    <section className="view timeline-view" data-testid="timeline">
      <header className="view-head">
        <h1>
          Timeline of <a href={`#/runs/${encodeURIComponent(runId)}`}>{d.run.blueprint} {runId.slice(0, 8)}</a>
        </h1>
        <StatusBadge status={runStatusAt(d, at)} />
        <span className="muted" data-testid="timeline-offset">+{formatDuration(at - tl.start)}</span>
      </header>
      <div className="player row">
        <button onClick={() => setPlaying(!playing)} data-testid="timeline-play" className="primary">
          {playing ? "Pause" : "Play"}
        </button>
        <input
          type="range"
          min={tl.start}
          max={tl.end}
          step={Math.max(1, (tl.end - tl.start) / 1000)}
          value={at}
          onChange={(e) => {
            setPlaying(false);
            setT(Number(e.target.value));
          }}
          data-testid="timeline-slider"
          aria-label="time"
        />
        <select value={speed} onChange={(e) => setSpeed(Number(e.target.value))} aria-label="speed">
          {SPEEDS.map(([label, v]) => (
            <option key={label} value={v}>
              {label}
            </option>
          ))}
        </select>
      </div>
      <div className="timeline-graph">
        <StepGraph steps={steps} onSelect={(id) => navigate({ view: "run", runId, stepId: id })} />
      </div>
      <Lanes runId={runId} tl={tl} t={at} onSeek={(v) => { setPlaying(false); setT(v); }} />
      <ol className="marks small">
        {marks.map((m, i) => (
          <li key={i} className={m.t <= at ? "past" : ""}>
            <button className="link" onClick={() => { setPlaying(false); setT(m.t); }}>
              +{formatDuration(m.t - tl.start)}
            </button>{" "}
            {m.label}
          </li>
        ))}
      </ol>
    </section>
  );
}
