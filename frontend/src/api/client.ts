// The only module that touches the transport. It speaks to whichever adapter
// serves the app surface: the desktop window (Wails bindings and runtime
// events) or browser mode (`factory serve`: JSON over HTTP, events over SSE).
// Everything else calls the typed functions exported here.

import type {
  Diagnostic,
  ErrorCode,
  FactoryEvent,
  MethodName,
  Methods,
} from "./types";

/** An error answered by the app surface, with its domain code. */
export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** The problems a refused edit would have brought, each at its place. */
  readonly diagnostics: Diagnostic[];
  constructor(code: ErrorCode, message: string, status = 0, diagnostics: Diagnostic[] = []) {
    super(message);
    this.name = "ApiError";
    this.code = code;
    this.status = status;
    this.diagnostics = diagnostics;
  }
}

const EVENT_NAME = "factory:events";
const ERROR_CODES: readonly ErrorCode[] = ["invalid", "not_found", "conflict", "unavailable", "canceled", "internal"];

type Bound = Record<string, (...args: unknown[]) => Promise<unknown>>;

interface WailsWindow {
  go?: { app?: { App?: Bound } };
  runtime?: { EventsOn?: (name: string, cb: (...data: unknown[]) => void) => (() => void) | void };
}

function wails(): WailsWindow | undefined {
  if (typeof window === "undefined") return undefined;
  const w = window as unknown as WailsWindow;
  return w.go?.app?.App ? w : undefined;
}

/** Which adapter serves the page: "desktop" (Wails) or "http" (browser mode). */
export function adapter(): "desktop" | "http" {
  return wails() ? "desktop" : "http";
}

function pageToken(): string | null {
  if (typeof location === "undefined") return null;
  return new URLSearchParams(location.search).get("token");
}

function apiURL(path: string, withToken = false): string {
  const url = new URL(`api/${path}`, document.baseURI);
  const token = pageToken();
  if (withToken && token) url.searchParams.set("token", token);
  return url.toString();
}

function isCode(s: unknown): s is ErrorCode {
  return typeof s === "string" && (ERROR_CODES as readonly string[]).includes(s);
}

function codeForStatus(status: number): ErrorCode {
  if (status === 404) return "not_found";
  if (status === 409) return "conflict";
  if (status === 503 || status === 502 || status === 504) return "unavailable";
  if (status >= 400 && status < 500) return "invalid";
  return "internal";
}

/** toApiError turns whatever an adapter rejected with into an ApiError. */
export function toApiError(e: unknown, status = 0): ApiError {
  if (e instanceof ApiError) return e;
  let raw: unknown = e;
  if (typeof e === "string") {
    try {
      raw = JSON.parse(e);
    } catch {
      return new ApiError("internal", e, status);
    }
  }
  if (raw && typeof raw === "object") {
    const o = raw as { error?: unknown; code?: unknown; message?: unknown };
    const inner = (o.error && typeof o.error === "object" ? o.error : o) as { code?: unknown; message?: unknown; diagnostics?: unknown };
    if (typeof inner.message === "string") {
      const diags = Array.isArray(inner.diagnostics) ? (inner.diagnostics as Diagnostic[]) : [];
      return new ApiError(isCode(inner.code) ? inner.code : codeForStatus(status), inner.message, status, diags);
    }
  }
  return new ApiError("internal", e instanceof Error ? e.message : String(e), status);
}

async function callHTTP(method: MethodName, args: unknown[]): Promise<unknown> {
  const headers: Record<string, string> = { "Content-Type": "application/json" };
  const token = pageToken();
  if (token) headers["Authorization"] = `Bearer ${token}`;
  // Every call is a POST and may change state: all carry the CSRF guard header.
  headers["X-Factory-Request"] = "1";
  let res: Response;
  try {
    res = await fetch(apiURL(method), { method: "POST", headers, body: JSON.stringify(args) });
  } catch (e) {
    throw new ApiError("unavailable", `cannot reach the factory server: ${e instanceof Error ? e.message : String(e)}`);
  }
  const text = await res.text();
  if (!res.ok) {
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      /* plain-text error */
    }
    const err = toApiError(body, res.status);
    if (res.status === 401 || res.status === 403) {
      throw new ApiError("invalid", `${err.message || res.statusText} (open the link with its ?token= to authenticate)`, res.status);
    }
    throw err.message ? err : new ApiError(codeForStatus(res.status), res.statusText, res.status);
  }
  return text === "" ? null : JSON.parse(text);
}

async function call<M extends MethodName>(method: M, ...args: Methods[M][0]): Promise<Methods[M][1]> {
  const w = wails();
  if (w) {
    const fn = w.go?.app?.App?.[method];
    if (!fn) throw new ApiError("not_found", `the desktop app has no method ${method}`);
    try {
      return (await fn(...args)) as Methods[M][1];
    } catch (e) {
      throw toApiError(e);
    }
  }
  return (await callHTTP(method, args)) as Methods[M][1];
}

/** The typed app surface. */
export const api = {
  info: () => call("Info"),
  blueprints: () => call("Blueprints"),
  blueprint: (id: string) => call("Blueprint", id),
  runs: (filter: Methods["Runs"][0][0] = {}) => call("Runs", filter),
  run: (id: string) => call("Run", id),
  startRun: (req: Methods["StartRun"][0][0]) => call("StartRun", req),
  cancelRun: (id: string) => call("CancelRun", id),
  resume: (runId: string) => call("Resume", runId),
  blob: (hash: string) => call("Blob", hash),
  models: () => call("Models"),
  pullModel: (name: string) => call("PullModel", name),
  deleteModel: (name: string) => call("DeleteModel", name),
  settings: () => call("Settings"),
  saveSettings: (s: Methods["SaveSettings"][0][0]) => call("SaveSettings", s),
  review: (runId: string, stepId: string, decision: Methods["Review"][0][2]) => call("Review", runId, stepId, decision),
  compare: (a: string, b: string) => call("Compare", a, b),
  openFile: (runId: string, path: string) => call("OpenFile", runId, path),
  drift: () => call("Drift"),
  acceptDrift: (path: string) => call("AcceptDrift", path),
  revertDrift: (path: string) => call("RevertDrift", path),
  openBlueprint: (path: string) => call("OpenBlueprint", path),
  validateDraft: (path: string, text: string) => call("ValidateDraft", path, text),
  editBlueprint: (path: string, text: string, ops: Methods["EditBlueprint"][0][2]) => call("EditBlueprint", path, text, ops),
  renderMarkdown: (text: string) => call("RenderMarkdown", text),
  saveBlueprint: (path: string, text: string, baseHash: string) => call("SaveBlueprint", path, text, baseHash),
  deleteBlueprint: (path: string, baseHash: string) => call("DeleteBlueprint", path, baseHash),
  draft: (path: string, text: string) => call("Draft", path, text),
  drafts: () => call("Drafts"),
  discardDraft: (path: string) => call("DiscardDraft", path),
  editDraft: (path: string, text: string, ops: Methods["EditDraft"][0][2]) => call("EditDraft", path, text, ops),
  roles: () => call("Roles"),
  tools: () => call("Tools"),
  blueprintTemplates: () => call("BlueprintTemplates"),
  newBlueprint: (req: Methods["NewBlueprint"][0][0]) => call("NewBlueprint", req),
};

/** Connection state of the event stream. */
export type StreamState = "connecting" | "open" | "reconnecting";

type EventListener = (events: FactoryEvent[]) => void;
type StateListener = (state: StreamState, resynced: boolean) => void;

const listeners = new Set<EventListener>();
const stateListeners = new Set<StateListener>();
let streamState: StreamState = "connecting";
let started = false;

/** flattenEvents accepts one event, an array of events, or several of either. */
export function flattenEvents(data: unknown[]): FactoryEvent[] {
  const out: FactoryEvent[] = [];
  const add = (v: unknown) => {
    if (Array.isArray(v)) v.forEach(add);
    else if (v && typeof v === "object" && "kind" in v) out.push(v as FactoryEvent);
  };
  data.forEach(add);
  return out;
}

function dispatch(events: FactoryEvent[]) {
  if (events.length === 0) return;
  for (const l of listeners) l(events);
}

function setState(s: StreamState, resynced: boolean) {
  streamState = s;
  for (const l of stateListeners) l(s, resynced);
}

function startStream() {
  if (started) return;
  started = true;
  const w = wails();
  if (w) {
    w.runtime?.EventsOn?.(EVENT_NAME, (...data: unknown[]) => dispatch(flattenEvents(data)));
    setState("open", false);
    return;
  }
  const es = new EventSource(apiURL("events", true));
  let everOpen = false;
  es.onopen = () => {
    setState("open", everOpen);
    everOpen = true;
  };
  es.onerror = () => setState("reconnecting", false);
  es.onmessage = (m: MessageEvent<string>) => {
    try {
      dispatch(flattenEvents([JSON.parse(m.data)]));
    } catch {
      /* a malformed frame is dropped; the next refresh resyncs */
    }
  };
}

/** subscribe calls fn with every batch of events; it returns the unsubscribe. */
export function subscribe(fn: EventListener): () => void {
  listeners.add(fn);
  startStream();
  return () => listeners.delete(fn);
}

/**
 * onStreamState calls fn when the event stream connects or drops; resynced
 * is true when it reconnected after a drop, so views should reload their data.
 */
export function onStreamState(fn: StateListener): () => void {
  stateListeners.add(fn);
  fn(streamState, false);
  startStream();
  return () => stateListeners.delete(fn);
}
