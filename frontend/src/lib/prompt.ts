// Parsing the prompt and answer blobs of a model call.

import type { PromptBlob } from "../api/types";

/** parsePrompt reads a prompt blob; null when it is not the expected JSON. */
export function parsePrompt(blob: string): PromptBlob | null {
  try {
    const v: unknown = JSON.parse(blob);
    if (!v || typeof v !== "object") return null;
    const msgs = (v as { messages?: unknown }).messages;
    if (!Array.isArray(msgs)) return null;
    const messages = msgs
      .filter((m): m is { role: unknown; content: unknown } => !!m && typeof m === "object")
      .map((m) => ({ role: String(m.role ?? ""), content: typeof m.content === "string" ? m.content : JSON.stringify(m.content) }));
    const o = v as { schema?: unknown; options?: unknown };
    return {
      messages,
      ...(o.schema !== undefined && o.schema !== null ? { schema: o.schema } : {}),
      ...(o.options && typeof o.options === "object" ? { options: o.options as Record<string, unknown> } : {}),
    };
  } catch {
    return null;
  }
}

/** A structured answer: the files the model wrote and its notes. */
export interface Answer {
  files: { path: string; content: string }[];
  notes: string;
}

/** parseAnswer reads a structured answer; null when the text is prose. */
export function parseAnswer(text: string): Answer | null {
  try {
    const v: unknown = JSON.parse(text);
    if (!v || typeof v !== "object" || Array.isArray(v)) return null;
    const o = v as { files?: unknown; notes?: unknown };
    if (o.files === undefined && o.notes === undefined) return null;
    const files = Array.isArray(o.files)
      ? o.files
          .filter((f): f is { path: unknown; content: unknown } => !!f && typeof f === "object")
          .map((f) => ({ path: String(f.path ?? ""), content: typeof f.content === "string" ? f.content : "" }))
      : [];
    return { files, notes: typeof o.notes === "string" ? o.notes : "" };
  } catch {
    return null;
  }
}

/** promptText renders a prompt's messages as one text, for diffs. */
export function promptText(p: PromptBlob | null, raw: string): string {
  if (!p) return raw;
  return p.messages.map((m) => `--- ${m.role}\n${m.content}`).join("\n");
}
