// Runs ELK layouts. In a browser the layout runs in a Web Worker (ELK's own
// worker script, served as an asset); where workers are missing it falls back
// to the bundled build on the main thread.

import type { ELK, ElkNode } from "elkjs/lib/elk-api";
import { elkInput, positionsFromElk, type GraphStep, type Point } from "./graph";

let engine: Promise<ELK> | undefined;

async function load(): Promise<ELK> {
  if (typeof Worker !== "undefined") {
    try {
      const [{ default: ElkApi }, { default: workerUrl }] = await Promise.all([
        import("elkjs/lib/elk-api.js"),
        import("elkjs/lib/elk-worker.min.js?url"),
      ]);
      return new ElkApi({ workerUrl });
    } catch {
      /* fall through to the main-thread build */
    }
  }
  const { default: ElkBundled } = await import("elkjs/lib/elk.bundled.js");
  return new ElkBundled();
}

/** layoutSteps lays the steps out left to right with ELK's layered algorithm. */
export async function layoutSteps(steps: readonly GraphStep[]): Promise<Record<string, Point>> {
  engine ??= load();
  const elk = await engine;
  const result: ElkNode = await elk.layout(elkInput(steps));
  return positionsFromElk(result);
}
