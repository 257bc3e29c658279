import { describe, expect, it } from "vitest";
import { href, navKey, parseRoute, type Route } from "./route";

describe("parseRoute", () => {
  const cases: [string, string, Route][] = [
    ["empty hash", "", { view: "runs" }],
    ["root", "#/", { view: "runs" }],
    ["runs", "#/runs", { view: "runs" }],
    ["run", "#/runs/abc123", { view: "run", runId: "abc123" }],
    ["step", "#/runs/abc/steps/code", { view: "run", runId: "abc", stepId: "code" }],
    ["encoded step", "#/runs/abc/steps/a%20b", { view: "run", runId: "abc", stepId: "a b" }],
    ["timeline", "#/runs/abc/timeline", { view: "timeline", runId: "abc" }],
    ["compare picker", "#/compare", { view: "compare" }],
    ["compare one", "#/compare/a1", { view: "compare", a: "a1" }],
    ["compare two", "#/compare/a1/b2", { view: "compare", a: "a1", b: "b2" }],
    ["blueprints", "#/blueprints", { view: "blueprints" }],
    ["blueprint", "#/blueprints/orders-service", { view: "blueprint", id: "orders-service" }],
    ["models", "#/models", { view: "models" }],
    ["settings", "#/settings", { view: "settings" }],
    ["drift", "#/drift", { view: "drift" }],
    ["trailing slash", "#/models/", { view: "models" }],
    ["query ignored", "#/runs?x=1", { view: "runs" }],
    ["unknown", "#/nope", { view: "notfound", path: "/nope" }],
    ["too deep", "#/runs/a/steps/b/c", { view: "notfound", path: "/runs/a/steps/b/c" }],
    ["bad percent", "#/runs/%E0%A4%A", { view: "run", runId: "%E0%A4%A" }],
  ];
  for (const [name, hash, want] of cases) {
    it(name, () => expect(parseRoute(hash)).toEqual(want));
  }
});

describe("href", () => {
  const routes: [string, Route][] = [
    ["runs", { view: "runs" }],
    ["run", { view: "run", runId: "r1" }],
    ["step with slash", { view: "run", runId: "r1", stepId: "a/b" }],
    ["timeline", { view: "timeline", runId: "r1" }],
    ["compare empty", { view: "compare" }],
    ["compare one", { view: "compare", a: "x" }],
    ["compare two", { view: "compare", a: "x", b: "y" }],
    ["blueprint", { view: "blueprint", id: "hello" }],
    ["settings", { view: "settings" }],
  ];
  for (const [name, r] of routes) {
    it(`round-trips ${name}`, () => expect(parseRoute(href(r))).toEqual(r));
  }
});

describe("navKey", () => {
  it("groups run views under runs", () => {
    expect(navKey({ view: "timeline", runId: "x" })).toBe("runs");
    expect(navKey({ view: "run", runId: "x" })).toBe("runs");
    expect(navKey({ view: "blueprint", id: "x" })).toBe("blueprints");
    expect(navKey({ view: "models" })).toBe("models");
  });
});
