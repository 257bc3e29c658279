// Keyboard shortcuts as a small state machine: "g" then a letter navigates,
// single keys act at once.

export type KeyAction =
  | { type: "go"; to: "runs" | "models" | "blueprints" | "settings" | "compare" | "drift" }
  | { type: "help" }
  | { type: "close" }
  | { type: "move"; delta: 1 | -1 }
  | { type: "open" };

const GO: Record<string, "runs" | "models" | "blueprints" | "settings" | "compare" | "drift"> = {
  r: "runs",
  d: "drift",
  m: "models",
  b: "blueprints",
  s: "settings",
  c: "compare",
};

/** The shortcuts, for the help overlay. */
export const SHORTCUTS: readonly [string, string][] = [
  ["g r", "runs"],
  ["g b", "blueprints"],
  ["g c", "compare runs"],
  ["g d", "drift: hand edits to generated files"],
  ["g m", "models"],
  ["g s", "settings"],
  ["j / k", "next / previous item"],
  ["Enter", "open the selected item"],
  ["Esc", "close the panel or overlay"],
  ["?", "this help"],
];

/**
 * nextKey consumes one key. pending is true after a "g"; the result says what
 * to do, if anything, and whether a "g" is now pending.
 */
export function nextKey(pending: boolean, key: string): { action?: KeyAction; pending: boolean } {
  if (pending) {
    const to = GO[key];
    return to ? { action: { type: "go", to }, pending: false } : { pending: false };
  }
  switch (key) {
    case "g":
      return { pending: true };
    case "?":
      return { action: { type: "help" }, pending: false };
    case "Escape":
      return { action: { type: "close" }, pending: false };
    case "j":
    case "ArrowDown":
      return { action: { type: "move", delta: 1 }, pending: false };
    case "k":
    case "ArrowUp":
      return { action: { type: "move", delta: -1 }, pending: false };
    case "Enter":
      return { action: { type: "open" }, pending: false };
  }
  return { pending: false };
}

/** typingTarget reports whether a key event comes from a field that takes text. */
export function typingTarget(el: { tagName?: string; isContentEditable?: boolean } | null): boolean {
  if (!el) return false;
  const tag = (el.tagName ?? "").toUpperCase();
  return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || !!el.isContentEditable;
}
