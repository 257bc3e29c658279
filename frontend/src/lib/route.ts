// Hash routes: every view has its own URL, so back, reload and a pasted link
// land on the same view.

export type Route =
  | { view: "runs" }
  | { view: "run"; runId: string; stepId?: string }
  | { view: "timeline"; runId: string }
  | { view: "compare"; a?: string; b?: string }
  | { view: "blueprints" }
  | { view: "blueprint"; id: string }
  | { view: "models" }
  | { view: "settings" }
  | { view: "drift" }
  | { view: "notfound"; path: string };

function seg(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** parseRoute turns a location hash ("#/runs/ID") into a Route. */
export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, "").replace(/\?.*$/, "");
  const parts = path.split("/").filter((p) => p !== "").map(seg);
  const [head, a, b, c, d] = parts;
  switch (head) {
    case undefined:
      return { view: "runs" };
    case "runs":
      if (a === undefined) return { view: "runs" };
      if (b === undefined) return { view: "run", runId: a };
      if (b === "timeline" && c === undefined) return { view: "timeline", runId: a };
      if (b === "steps" && c !== undefined && d === undefined) return { view: "run", runId: a, stepId: c };
      break;
    case "compare":
      if (parts.length <= 3) return { view: "compare", ...(a ? { a } : {}), ...(b ? { b } : {}) };
      break;
    case "blueprints":
      if (a === undefined) return { view: "blueprints" };
      if (b === undefined) return { view: "blueprint", id: a };
      break;
    case "models":
    case "settings":
    case "drift":
      if (a === undefined) return { view: head };
      break;
  }
  return { view: "notfound", path };
}

const enc = encodeURIComponent;

/** href renders a Route as a hash URL; parseRoute(href(r)) equals r. */
export function href(r: Route): string {
  switch (r.view) {
    case "runs":
      return "#/runs";
    case "run":
      return r.stepId ? `#/runs/${enc(r.runId)}/steps/${enc(r.stepId)}` : `#/runs/${enc(r.runId)}`;
    case "timeline":
      return `#/runs/${enc(r.runId)}/timeline`;
    case "compare":
      return ["#/compare", r.a, r.a !== undefined ? r.b : undefined]
        .filter((p): p is string => p !== undefined && p !== "")
        .map((p, i) => (i === 0 ? p : enc(p)))
        .join("/");
    case "blueprints":
      return "#/blueprints";
    case "blueprint":
      return `#/blueprints/${enc(r.id)}`;
    case "models":
      return "#/models";
    case "settings":
      return "#/settings";
    case "drift":
      return "#/drift";
    case "notfound":
      return `#${r.path}`;
  }
}

/** navKey names the top-level section a route belongs to, for the nav bar. */
export function navKey(r: Route): string {
  switch (r.view) {
    case "run":
    case "timeline":
      return "runs";
    case "blueprint":
      return "blueprints";
    default:
      return r.view;
  }
}
