// The open drifts of the workspace as the drift view keeps them: the list
// answered by Drift, updated by the watcher's drift events and the
// operator's accepts and reverts.

import type { Drift, FactoryEvent, RevertResult } from "../api/types";

/** sortDrifts orders drifts by path. */
export function sortDrifts(list: readonly Drift[] | null | undefined): Drift[] {
  return [...(list ?? [])].sort((a, b) => a.path.localeCompare(b.path));
}

/** removeDrift drops the drift of path, once it was accepted or reverted. */
export function removeDrift(list: readonly Drift[], path: string): Drift[] {
  return list.filter((d) => d.path !== path);
}

/**
 * freshEvents returns the events a newest-first log gained since prev: the
 * ones before prev's newest.
 */
export function freshEvents(next: readonly FactoryEvent[], prev: readonly FactoryEvent[]): FactoryEvent[] {
  if (next === prev) return [];
  const head = prev[0];
  const i = head ? next.indexOf(head) : -1;
  return next.slice(0, i < 0 ? next.length : i);
}

/**
 * applyDriftEvents applies the watcher's drift events to the list: a
 * cleared drift (the file is back to its generated content) leaves at once;
 * an edit or deletion asks for the list again (reload), since the event has
 * no diff.
 */
export function applyDriftEvents(list: readonly Drift[], events: readonly FactoryEvent[]): { list: Drift[]; reload: boolean } {
  let out = [...list];
  let reload = false;
  for (const e of events) {
    if (e.kind !== "drift") continue;
    if (e.status === "cleared" && e.name) out = removeDrift(out, e.name);
    else reload = true;
  }
  return { list: out, reload };
}

/** revertNote says what a revert did and where the replaced version was kept. */
export function revertNote(r: RevertResult): string {
  if (!r.reverted) return `${r.path} had no drift: nothing was reverted.`;
  return r.kept
    ? `Reverted ${r.path} to its generated content; the version it replaced is kept in ${r.kept}.`
    : `Reverted ${r.path} to its generated content.`;
}
