// Graph logic for the step graph: nodes and edges from a run's steps or a
// blueprint's steps, the ELK layout input, and a layered fallback layout.

import type { ElkNode } from "elkjs/lib/elk-api";
import type { Status, Step, StepRun } from "../api/types";

/** GraphStep is what one node shows. */
export type GraphStep = {
  id: string;
  role: string;
  model?: string;
  needs: string[];
  status?: Status;
  attempts?: number;
  cacheHit?: boolean;
  review?: boolean;
};

/** GraphEdge connects an upstream step to the step that needs it. */
export interface GraphEdge {
  id: string;
  source: string;
  target: string;
}

export interface Point {
  x: number;
  y: number;
}

/** Node size used for layout and rendering. */
export const NODE_WIDTH = 200;
export const NODE_HEIGHT = 64;

/** fromStepRuns maps a run's steps to graph steps. */
export function fromStepRuns(steps: readonly StepRun[]): GraphStep[] {
  return steps.map((s) => ({
    id: s.step,
    role: s.role,
    ...(s.model ? { model: s.model } : {}),
    needs: s.needs ?? [],
    status: s.status,
    attempts: s.attempts,
    cacheHit: !!s.cache_hit,
    review: s.status === "awaiting_review",
  }));
}

/** fromBlueprintSteps maps a blueprint's steps to graph steps. */
export function fromBlueprintSteps(steps: readonly Step[]): GraphStep[] {
  return steps.map((s) => ({
    id: s.id,
    role: s.role,
    ...(s.model ? { model: s.model } : {}),
    needs: s.needs ?? [],
    review: s.review === "required",
  }));
}

/** edges lists one edge per known `needs` entry, skipping unknown steps. */
export function edges(steps: readonly GraphStep[]): GraphEdge[] {
  const ids = new Set(steps.map((s) => s.id));
  const out: GraphEdge[] = [];
  for (const s of steps) {
    for (const n of s.needs) {
      if (ids.has(n) && n !== s.id) out.push({ id: `${n}->${s.id}`, source: n, target: s.id });
    }
  }
  return out;
}

/** elkInput builds the ELK layered graph for the steps, left to right. */
export function elkInput(steps: readonly GraphStep[]): ElkNode {
  return {
    id: "root",
    layoutOptions: {
      "elk.algorithm": "layered",
      "elk.direction": "RIGHT",
      "elk.layered.spacing.nodeNodeBetweenLayers": "60",
      "elk.spacing.nodeNode": "30",
      "elk.layered.nodePlacement.strategy": "BRANDES_KOEPF",
    },
    children: steps.map((s) => ({ id: s.id, width: NODE_WIDTH, height: NODE_HEIGHT })),
    edges: edges(steps).map((e) => ({ id: e.id, sources: [e.source], targets: [e.target] })),
  };
}

/** positionsFromElk reads node positions from an ELK layout result. */
export function positionsFromElk(result: ElkNode): Record<string, Point> {
  const out: Record<string, Point> = {};
  for (const c of result.children ?? []) out[c.id] = { x: c.x ?? 0, y: c.y ?? 0 };
  return out;
}

/**
 * levels gives each step its depth: 0 for steps with no known needs, else one
 * more than its deepest need. Steps on a cycle get the depth reached so far.
 */
export function levels(steps: readonly GraphStep[]): Record<string, number> {
  const byId = new Map(steps.map((s) => [s.id, s]));
  const depth: Record<string, number> = {};
  const visiting = new Set<string>();
  const visit = (id: string): number => {
    const known = depth[id];
    if (known !== undefined) return known;
    if (visiting.has(id)) return 0;
    visiting.add(id);
    let d = 0;
    for (const n of byId.get(id)?.needs ?? []) {
      if (byId.has(n) && n !== id) d = Math.max(d, visit(n) + 1);
    }
    visiting.delete(id);
    depth[id] = d;
    return d;
  };
  steps.forEach((s) => visit(s.id));
  return depth;
}

/**
 * ELK_MAX_STEPS is the largest graph ELK lays out. ELK's layered algorithm
 * takes seconds on a thousand steps; beyond this size the columns of
 * fallbackLayout are the layout, drawn at once.
 */
export const ELK_MAX_STEPS = 300;

/**
 * fallbackLayout places steps in columns by depth, used until ELK answers
 * and as the layout of graphs too large for ELK. Within a column, steps are
 * ordered by the mean row of their needs (one barycenter pass), which keeps
 * most edges short and uncrossed.
 */
export function fallbackLayout(steps: readonly GraphStep[]): Record<string, Point> {
  const lv = levels(steps);
  const columns: GraphStep[][] = [];
  for (const s of steps) (columns[lv[s.id] ?? 0] ??= []).push(s);
  const row: Record<string, number> = {};
  const out: Record<string, Point> = {};
  columns.forEach((col, c) => {
    const weight = (s: GraphStep, i: number): number => {
      const rows = s.needs.map((n) => row[n]).filter((r): r is number => r !== undefined);
      return rows.length > 0 ? rows.reduce((a, b) => a + b, 0) / rows.length : i;
    };
    const order = col.map((s, i) => ({ s, w: weight(s, i), i })).sort((a, b) => a.w - b.w || a.i - b.i);
    order.forEach(({ s }, r) => {
      row[s.id] = r;
      out[s.id] = { x: c * (NODE_WIDTH + 60), y: r * (NODE_HEIGHT + 30) };
    });
  });
  return out;
}

/** layoutKey changes only when the graph's shape changes, not its statuses. */
export function layoutKey(steps: readonly GraphStep[]): string {
  return steps.map((s) => `${s.id}<${[...s.needs].sort().join(",")}`).join("|");
}

/** neighbour returns the id next to current in list order (for j/k keys). */
export function neighbour(ids: readonly string[], current: string | undefined, delta: number): string | undefined {
  if (ids.length === 0) return undefined;
  const i = current === undefined ? -1 : ids.indexOf(current);
  if (i < 0) return delta > 0 ? ids[0] : ids[ids.length - 1];
  return ids[Math.min(ids.length - 1, Math.max(0, i + delta))];
}

/** topoOrder lists steps by depth, then by their given order. */
export function topoOrder(steps: readonly GraphStep[]): string[] {
  const lv = levels(steps);
  return steps
    .map((s, i) => ({ id: s.id, d: lv[s.id] ?? 0, i }))
    .sort((a, b) => a.d - b.d || a.i - b.i)
    .map((x) => x.id);
}
