import { describe, expect, it } from "vitest";
import { nextKey, typingTarget, type KeyAction } from "./keys";

function play(keys: string[]): (KeyAction | undefined)[] {
  let pending = false;
  return keys.map((k) => {
    const r = nextKey(pending, k);
    pending = r.pending;
    return r.action;
  });
}

describe("nextKey", () => {
  const cases: [string, string[], (KeyAction | undefined)[]][] = [
    ["g r goes to runs", ["g", "r"], [undefined, { type: "go", to: "runs" }]],
    ["g m goes to models", ["g", "m"], [undefined, { type: "go", to: "models" }]],
    ["g d goes to drift", ["g", "d"], [undefined, { type: "go", to: "drift" }]],
    ["g then unknown cancels", ["g", "x", "r"], [undefined, undefined, undefined]],
    ["help", ["?"], [{ type: "help" }]],
    ["escape", ["Escape"], [{ type: "close" }]],
    ["j k", ["j", "k"], [{ type: "move", delta: 1 }, { type: "move", delta: -1 }]],
    ["enter", ["Enter"], [{ type: "open" }]],
  ];
  for (const [name, keys, want] of cases) it(name, () => expect(play(keys)).toEqual(want));
});

describe("typingTarget", () => {
  it("recognises fields", () => {
    expect(typingTarget({ tagName: "input" })).toBe(true);
    expect(typingTarget({ tagName: "TEXTAREA" })).toBe(true);
    expect(typingTarget({ tagName: "DIV", isContentEditable: true })).toBe(true);
    expect(typingTarget({ tagName: "DIV" })).toBe(false);
    expect(typingTarget(null)).toBe(false);
  });
});
