import { describe, expect, it } from "vitest";
import { parseAnswer, parsePrompt, promptText } from "./prompt";

describe("parsePrompt", () => {
  it("reads messages, schema and options", () => {
    const p = parsePrompt(JSON.stringify({ messages: [{ role: "system", content: "be brief" }, { role: "user", content: "go" }], schema: { type: "object" }, options: { seed: 1 } }));
    expect(p?.messages).toHaveLength(2);
    expect(p?.schema).toEqual({ type: "object" });
    expect(p?.options).toEqual({ seed: 1 });
    expect(promptText(p, "")).toBe("--- system\nbe brief\n--- user\ngo");
  });
  const bad: [string, string][] = [
    ["prose", "hello"],
    ["no messages", "{}"],
    ["array", "[]"],
  ];
  for (const [name, v] of bad) it(`null for ${name}`, () => expect(parsePrompt(v)).toBeNull());
  it("falls back to raw text", () => expect(promptText(null, "raw")).toBe("raw"));
});

describe("parseAnswer", () => {
  it("reads files and notes", () => {
    expect(parseAnswer('{"files":[{"path":"a.go","content":"package a"}],"notes":"ok"}')).toEqual({ files: [{ path: "a.go", content: "package a" }], notes: "ok" });
  });
  it("null for prose and unrelated JSON", () => {
    expect(parseAnswer("```go\npackage a\n```")).toBeNull();
    expect(parseAnswer('{"x":1}')).toBeNull();
  });
});
