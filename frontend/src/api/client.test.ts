/// <reference types="node" />
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { api, ApiError, flattenEvents, toApiError } from "./client";

interface Seen {
  method: string;
  path: string;
  headers: IncomingMessage["headers"];
  body: string;
}

// A real HTTP server answering the way browser mode does.
let server: Server;
let seen: Seen[] = [];

function answer(path: string, body: unknown): [number, string] {
  switch (path) {
    case "/api/Info":
      return [200, JSON.stringify({ workspace: "/ws", version: "dev" })];
    case "/api/Runs":
      return [200, JSON.stringify([{ id: "r1", blueprint: "hello", status: "running" }])];
    case "/api/CancelRun":
      return [200, "null"];
    case "/api/Run":
      return [404, JSON.stringify({ error: { code: "not_found", message: `no run ${(body as string[])[0]}` } })];
    case "/api/Review":
      return [409, JSON.stringify({ error: { code: "conflict", message: "step is not waiting for review" } })];
    case "/api/Settings":
      return [401, "missing token"];
    case "/api/Resume":
      return [409, JSON.stringify({ error: { code: "conflict", message: `run ${(body as string[])[0]} already succeeded: nothing to resume` } })];
    case "/api/Drift":
      return [200, "null"];
    case "/api/AcceptDrift":
      return [200, "null"];
    case "/api/EditBlueprint":
      return [400, JSON.stringify({ error: { code: "invalid", message: "blueprints/a.md:8:13: needs cycle: a -> a",
        diagnostics: [{ path: "blueprints/a.md", line: 8, col: 13, message: "needs cycle: a -> a", step: "a", field: "needs" }] } })];
    case "/api/RevertDrift":
      return [200, JSON.stringify({ path: (body as string[])[0], reverted: true, kept: ".factory/reverted/x" })];
  }
  return [500, "boom"];
}

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      seen.push({ method: req.method ?? "", path: req.url ?? "", headers: req.headers, body });
      const [status, out] = answer(req.url ?? "", body ? JSON.parse(body) : null);
      res.writeHead(status, { "Content-Type": status === 200 ? "application/json" : "text/plain" });
      res.end(out);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  vi.stubGlobal("document", { baseURI: `http://127.0.0.1:${port}/` });
  vi.stubGlobal("location", { search: "?token=s3cret" });
});

afterAll(async () => {
  vi.unstubAllGlobals();
  await new Promise((r) => server.close(r));
});

describe("browser-mode transport", () => {
  it("posts positional args with the token and the CSRF header", async () => {
    seen = [];
    expect(await api.info()).toEqual({ workspace: "/ws", version: "dev" });
    expect(await api.runs({ blueprint: "hello", limit: 5 })).toHaveLength(1);
    expect(seen.map((s) => [s.method, s.path, s.body])).toEqual([
      ["POST", "/api/Info", "[]"],
      ["POST", "/api/Runs", '[{"blueprint":"hello","limit":5}]'],
    ]);
    expect(seen[0]?.headers["authorization"]).toBe("Bearer s3cret");
    expect(seen[0]?.headers["x-factory-request"]).toBe("1");
  });

  it("answers null for methods that return only an error", async () => {
    seen = [];
    expect(await api.cancelRun("r1")).toBeNull();
    expect(seen[0]?.headers["x-factory-request"]).toBe("1");
    expect(seen[0]?.body).toBe('["r1"]');
  });

  it("calls the drift methods with the workspace-relative path", async () => {
    seen = [];
    expect(await api.drift()).toBeNull();
    expect(await api.acceptDrift("out/a.go")).toBeNull();
    expect(await api.revertDrift("out/b.go")).toEqual({ path: "out/b.go", reverted: true, kept: ".factory/reverted/x" });
    expect(seen.map((s) => [s.path, s.body])).toEqual([
      ["/api/Drift", "[]"],
      ["/api/AcceptDrift", '["out/a.go"]'],
      ["/api/RevertDrift", '["out/b.go"]'],
    ]);
  });

  const failures: [string, () => Promise<unknown>, string, number, RegExp][] = [
    ["resume conflict", () => api.resume("r1"), "conflict", 409, /r1 already succeeded/],
    ["not found", () => api.run("zz"), "not_found", 404, /no run zz/],
    ["conflict", () => api.review("r1", "tests", { approve: true }), "conflict", 409, /not waiting/],
    ["unauthorised plain text", () => api.settings(), "invalid", 401, /missing token.*\?token=/],
    ["server error plain text", () => api.models(), "internal", 500, /boom/],
  ];
  for (const [name, call, code, status, msg] of failures) {
    it(`maps ${name}`, async () => {
      const err = await call().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ApiError);
      expect((err as ApiError).code).toBe(code);
      expect((err as ApiError).status).toBe(status);
      expect((err as ApiError).message).toMatch(msg);
    });
  }
});

describe("toApiError", () => {
  const cases: [string, unknown, string, string][] = [
    ["plain string from the desktop bridge", "run not found", "internal", "run not found"],
    ["JSON string with a code", '{"code":"conflict","message":"busy"}', "conflict", "busy"],
    ["wrapped error object", { error: { code: "invalid", message: "bad" } }, "invalid", "bad"],
    ["Error", new Error("x"), "internal", "x"],
  ];
  for (const [name, v, code, message] of cases) {
    it(name, () => {
      const e = toApiError(v);
      expect([e.code, e.message]).toEqual([code, message]);
    });
  }
});

describe("refused edits", () => {
  const diag = { path: "blueprints/a.md", line: 8, col: 13, message: "needs cycle: a -> a", step: "a", field: "needs" };
  it("carry their diagnostics over HTTP", async () => {
    const err = await api.editBlueprint("blueprints/a.md", "x", [{ op: "connect", from: "a", to: "a" }]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe("invalid");
    expect((err as ApiError).diagnostics).toEqual([diag]);
  });
  it("carry their diagnostics from the desktop bridge", () => {
    const e = toApiError({ error: { code: "invalid", message: "m", diagnostics: [diag] } });
    expect(e.diagnostics).toEqual([diag]);
    expect(toApiError({ error: { code: "invalid", message: "m" } }).diagnostics).toEqual([]);
  });
});

describe("flattenEvents", () => {
  it("accepts single events, arrays and several arguments", () => {
    const a = { time: "t", kind: "run" };
    const b = { time: "t", kind: "step" };
    expect(flattenEvents([a])).toEqual([a]);
    expect(flattenEvents([[a, b]])).toEqual([a, b]);
    expect(flattenEvents([a, [b], null, 3, { nokind: 1 }])).toEqual([a, b]);
  });
});
