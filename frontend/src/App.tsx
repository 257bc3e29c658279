import { api, adapter } from "./api/client";
import { HelpOverlay } from "./components/HelpOverlay";
import { useAsync } from "./hooks/data";
import { useRoute } from "./hooks/route";
import { useEventFeed, useShortcuts } from "./hooks/shell";
import { navKey, type Route } from "./lib/route";
import { useUI } from "./store/ui";
import { CompareView } from "./views/CompareView";
import { DriftView } from "./views/DriftView";
import { ModelsView } from "./views/ModelsView";
import { RunsView } from "./views/RunsView";
import { SettingsView } from "./views/SettingsView";
import { lazy, Suspense } from "react";

// The views that draw a graph load React Flow with them, after the first
// paint of the runs list.
const RunView = lazy(() => import("./views/RunView").then((m) => ({ default: m.RunView })));
const TimelineView = lazy(() => import("./views/TimelineView").then((m) => ({ default: m.TimelineView })));
const BlueprintsView = lazy(() => import("./views/BlueprintsView").then((m) => ({ default: m.BlueprintsView })));
const BlueprintView = lazy(() => import("./views/BlueprintsView").then((m) => ({ default: m.BlueprintView })));

const NAV: [string, string, string][] = [
  ["runs", "#/runs", "Runs"],
  ["blueprints", "#/blueprints", "Blueprints"],
  ["compare", "#/compare", "Compare"],
  ["drift", "#/drift", "Drift"],
  ["models", "#/models", "Models"],
  ["settings", "#/settings", "Settings"],
];

function View({ route }: { route: Route }) {
  switch (route.view) {
    case "runs":
      return <RunsView />;
    case "run":
      return <RunView key={route.runId} runId={route.runId} stepId={route.stepId} />;
    case "timeline":
      return <TimelineView key={route.runId} runId={route.runId} />;
    case "compare":
      return <CompareView a={route.a} b={route.b} />;
    case "blueprints":
      return <BlueprintsView />;
    case "blueprint":
      return <BlueprintView key={route.id} id={route.id} />;
    case "models":
      return <ModelsView />;
    case "settings":
      return <SettingsView />;
    case "drift":
      return <DriftView />;
    case "notfound":
      return (
        <section className="view">
          <h1>Nothing at {route.path}</h1>
          <p>
            <a href="#/runs">Go to the runs</a>
          </p>
        </section>
      );
  }
}

/** App is the shell: navigation, connection state, shortcuts and the current view. */
export function App() {
  const route = useRoute();
  const stream = useEventFeed();
  useShortcuts();
  const info = useAsync(() => api.info(), []);
  const setHelp = useUI((s) => s.setHelp);
  const current = navKey(route);
  return (
    <div className="shell">
      <nav className="nav">
        <span className="brand">Factory Desk</span>
        {NAV.map(([key, h, label]) => (
          <a key={key} href={h} className={current === key ? "on" : ""} data-testid={`nav-${key}`} aria-current={current === key ? "page" : undefined}>
            {label}
          </a>
        ))}
        <span className="spacer" />
        <span className="muted small workspace" title={info.data?.workspace}>
          {info.data ? `${info.data.workspace} · ${info.data.version}` : info.error ? <span className="bad">{info.error}</span> : ""}
        </span>
        <span className={`conn conn-${stream}`} data-testid="stream-state" title={`${adapter()} · events ${stream}`} />
        <button className="link" onClick={() => setHelp(true)} title="keyboard shortcuts (?)">
          ?
        </button>
      </nav>
      <main className="main">
        <Suspense fallback={<p className="muted empty">Loading…</p>}>
          <View route={route} />
        </Suspense>
      </main>
      <HelpOverlay />
    </div>
  );
}
