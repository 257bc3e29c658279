// JSON shapes of the app surface. They mirror the Go json tags exactly:
// times are RFC3339 strings (a zero Go time arrives as "0001-01-01T00:00:00Z"),
// durations are nanoseconds.

export type Status =
  | "pending"
  | "running"
  | "succeeded"
  | "failed"
  | "skipped"
  | "canceled"
  | "awaiting_review"
  | "interrupted";

export const STATUSES: readonly Status[] = [
  "pending",
  "running",
  "succeeded",
  "failed",
  "skipped",
  "canceled",
  "awaiting_review",
  "interrupted",
];

export interface Run {
  id: string;
  blueprint: string;
  blueprint_version: string;
  blueprint_path: string;
  model: string;
  output: string;
  status: Status;
  error?: string;
  parallel: number;
  tokens_in: number;
  tokens_out: number;
  calls: number;
  started_at: string;
  ended_at?: string;
  parent_id?: string;
  kind?: string;
}

export interface StepRun {
  run_id: string;
  step: string;
  role: string;
  model: string;
  status: Status;
  error?: string;
  attempts: number;
  sections?: string[];
  needs?: string[];
  cache_hit?: boolean;
  tokens_in: number;
  tokens_out: number;
  started_at?: string;
  ended_at?: string;
}

export interface Attempt {
  run_id: string;
  step: string;
  n: number;
  status: Status;
  error?: string;
  feedback?: string;
  notes?: string;
  started_at: string;
  ended_at?: string;
}

export interface ModelCall {
  id: number;
  run_id: string;
  step: string;
  attempt: number;
  seq: number;
  provider: string;
  model: string;
  options?: string;
  prompt_hash: string;
  answer_hash: string;
  tokens_in: number;
  tokens_out: number;
  duration_ns: number;
  first_token_ns: number;
  done_reason?: string;
  error?: string;
  started_at: string;
}

export interface Artifact {
  run_id: string;
  step: string;
  attempt: number;
  path: string;
  sha256: string;
  size: number;
  sections?: string[];
  created_at: string;
}

export interface RunDetail {
  run: Run;
  steps: StepRun[] | null;
  attempts: Attempt[] | null;
  calls: ModelCall[] | null;
  artifacts: Artifact[] | null;
}

export interface ModelInfo {
  provider: string;
  name: string;
  size?: number;
  modified?: string;
  family?: string;
  parameters?: string;
}

export interface Diagnostic {
  path: string;
  line: number;
  col: number;
  message: string;
  /** The step the problem belongs to, when there is one. */
  step?: string;
  /** The key it belongs to, like "writes" or "options.temperature". */
  field?: string;
}

/** Model settings of a blueprint, a role or a step (`options:`). */
export interface ModelOptions {
  temperature?: number;
  top_p?: number;
  seed?: number;
  num_ctx?: number;
  max_tokens?: number;
  stop?: string[];
}

export interface Step {
  id: string;
  role: string;
  model?: string;
  options?: ModelOptions;
  uses?: string[];
  needs?: string[];
  writes?: string[];
  validate?: string[];
  retries?: number;
  review?: string;
  when?: Record<string, string[]>;
  line?: number;
}

export interface Section {
  id: string;
  title: string;
  level: number;
  line: number;
  end: number;
  text: string;
}

export interface Info {
  workspace: string;
  version: string;
}

export interface BlueprintSummary {
  id: string;
  title: string;
  path: string;
  version: string;
  steps: Step[] | null;
  diagnostics: Diagnostic[] | null;
}

export interface BlueprintDetail {
  id: string;
  title: string;
  path: string;
  version: string;
  source: string;
  steps: Step[] | null;
  sections: Section[] | null;
  scope: Record<string, string> | null;
  model: string;
  diagnostics: Diagnostic[] | null;
}

export interface RunFilter {
  blueprint?: string;
  status?: string;
  limit?: number;
}

export interface StartRunRequest {
  blueprint: string;
  model?: string;
  parallel?: number;
}

export interface ModelsResult {
  models: ModelInfo[] | null;
  errors?: Record<string, string>;
}

export type SandboxMode = "auto" | "required" | "off";

export interface Settings {
  ollama_host: string;
  openai_base_url: string;
  openai_api_key_set: boolean;
  parallel: number;
  sandbox: SandboxMode;
}

export interface SettingsUpdate {
  ollama_host?: string;
  openai_base_url?: string;
  openai_api_key?: string;
  parallel?: number;
  sandbox?: SandboxMode;
}

export interface ReviewDecision {
  approve: boolean;
  comment?: string;
}

export interface CompareResult {
  a: RunDetail;
  b: RunDetail;
}

export type EventKind =
  | "run"
  | "step"
  | "attempt"
  | "call"
  | "token"
  | "gate"
  | "pull"
  | "drift"
  | "blueprint.changed"
  | "warning";

/** One event of the "factory:events" stream. */
export interface FactoryEvent {
  time: string;
  kind: EventKind;
  run_id?: string;
  step?: string;
  attempt?: number;
  status?: string;
  message?: string;
  text?: string;
  tokens_in?: number;
  tokens_out?: number;
  duration_ns?: number;
  completed?: number;
  total?: number;
  name?: string;
  /** blueprint.changed: the file's new sha256 ("" when removed). */
  hash?: string;
}

/** A blueprint or role file opened for editing. */
export interface BlueprintDocument {
  path: string;
  kind: "blueprint" | "role";
  text: string;
  /** sha256 of text: the base a save goes over. */
  hash: string;
}

/** A range of 1-based lines, both included. */
export interface Lines {
  line: number;
  end: number;
}

export interface DraftSection extends Lines {
  id: string;
  title: string;
  level: number;
}

/** A blueprint as the editor reads it from a draft. */
export interface DraftModel {
  id: string;
  title?: string;
  scope?: Record<string, string>;
  model?: string;
  options?: ModelOptions;
  output?: string;
  secrets?: string[];
  budget?: { max_tokens?: number; max_calls?: number; max_minutes?: number };
  steps: Step[];
  checks?: string[];
  timeout?: string;
  sandbox?: string;
  env?: string[];
  sections: DraftSection[];
}

export interface DraftRole {
  role: string;
  description: string;
  skills?: string[];
  model?: string;
  options?: ModelOptions;
  prompt: string;
  path: string;
  version: string;
}

/** What ValidateDraft finds in a draft. */
export interface DraftResult {
  path: string;
  kind: "blueprint" | "role";
  hash: string;
  blueprint?: DraftModel;
  role?: DraftRole;
  /** The YAML did not parse: the model is what its lines before the error hold. */
  partial: boolean;
  diagnostics: Diagnostic[];
  front_matter: Lines;
  steps: (Lines & { id: string })[];
  sections: DraftSection[];
}

/** One edit operation (see backend/blueprint/edit.Op). */
export interface EditOp {
  op:
    | "set"
    | "unset"
    | "add-step"
    | "remove-step"
    | "rename"
    | "duplicate-step"
    | "move-step"
    | "connect"
    | "disconnect"
    | "set-body"
    | "set-section";
  key?: string;
  value?: unknown;
  step?: string;
  to?: string;
  from?: string;
  role?: string;
  needs?: string[];
  writes?: string[];
  index?: number;
  section?: string;
  text?: string;
}

export interface Edited {
  text: string;
  result: DraftResult;
}

export interface RenderResult {
  html: string;
  sections: (Lines & { id: string; title: string; level: number })[];
  /** Why the body was not rendered (over the body's size or nesting limits). */
  refused?: string;
}

/** A role of the library, as the editor offers it. */
export interface RoleSummary {
  role: string;
  description: string;
  skills: string[];
  model?: string;
  path: string;
}

/** A tool a role's skills may name. */
export interface ToolInfo {
  name: string;
  description: string;
}

/** A shipped example blueprint a new one can start from. */
export interface BlueprintTemplate {
  id: string;
  title: string;
  steps: number;
  text: string;
}

/** Asks for a new blueprint from a template or a copy of a workspace blueprint (its path). */
export interface NewBlueprintRequest {
  template?: string;
  from?: string;
  id: string;
  title?: string;
}

/** The answer to a save over a version that is no longer on disk. */
export interface SaveConflict {
  disk: string;
  disk_hash: string;
  disk_exists: boolean;
  base_known: boolean;
  /** Three-way merge of base, disk ("on disk") and draft ("draft"). */
  merged: string;
  clean: boolean;
  conflicts: number;
}

export interface SaveResult {
  saved: boolean;
  path: string;
  hash: string;
  conflict?: SaveConflict;
}

export interface DraftSaved {
  path: string;
  hash: string;
  saved_at: string;
}

export interface ListedDraft {
  path: string;
  text: string;
  hash: string;
  disk_hash: string;
  saved_at: string;
  current_hash: string;
  /** Written after the file last changed (or the file is gone). */
  newer: boolean;
  /** Unified diff from the file on disk to the draft. */
  diff: string;
}

/** The prompt blob: the request sent to a model. */
export interface PromptBlob {
  messages: { role: string; content: string }[];
  schema?: unknown;
  options?: Record<string, unknown>;
}

/** An open drift: a generated file edited or deleted outside the factory. */
export interface Drift {
  /** Relative to the workspace root. */
  path: string;
  base_sha256: string;
  /** "" when deleted. */
  current_sha256: string;
  deleted?: boolean;
  /** Unified diff from the generated content to the content on disk ("" when the generated content is not kept). */
  diff: string;
  seen_at: string;
}

/** Where a revert kept the version it replaced. */
export interface RevertResult {
  path: string;
  /** false: the file had no drift. */
  reverted: boolean;
  /** The replaced version, relative to the workspace root. */
  kept?: string;
}

export type ErrorCode = "invalid" | "not_found" | "conflict" | "unavailable" | "canceled" | "internal";

/**
 * Every method of the app surface: name -> [argument tuple, result].
 * The transport passes the arguments positionally.
 */
export interface Methods {
  Info: [[], Info];
  Blueprints: [[], BlueprintSummary[] | null];
  Blueprint: [[id: string], BlueprintDetail];
  Runs: [[filter: RunFilter], Run[] | null];
  Run: [[id: string], RunDetail];
  StartRun: [[req: StartRunRequest], Run];
  /** Continues an interrupted, failed, canceled or awaiting_review run in the background. */
  Resume: [[runId: string], Run];
  CancelRun: [[id: string], null];
  Blob: [[hash: string], string];
  Models: [[], ModelsResult];
  PullModel: [[name: string], null];
  DeleteModel: [[name: string], null];
  Settings: [[], Settings];
  SaveSettings: [[s: SettingsUpdate], Settings];
  Review: [[runId: string, stepId: string, decision: ReviewDecision], null];
  Compare: [[a: string, b: string], CompareResult];
  /** Opens a generated file in the system's editor; answers its absolute path. */
  OpenFile: [[runId: string, path: string], string];
  /** Scans the workspace and answers its open drifts. */
  Drift: [[], Drift[] | null];
  /** Makes the content on disk of a generated file (workspace-relative) its new base. */
  AcceptDrift: [[path: string], null];
  /** Restores the generated content; the replaced version is kept under .factory/reverted/. */
  RevertDrift: [[path: string], RevertResult];
  /** A blueprint or role file (inside blueprints/) with its version, for the editor. */
  OpenBlueprint: [[path: string], BlueprintDocument];
  /** Parses and lints the editor's text: model, diagnostics with step and field, step and section lines. */
  ValidateDraft: [[path: string, text: string], DraftResult];
  /** Applies edit operations to the editor's text; a refused edit is an "invalid" error. */
  EditBlueprint: [[path: string, text: string, ops: EditOp[]], Edited];
  RenderMarkdown: [[text: string], RenderResult];
  /** Writes only over baseHash ("" for a new file); otherwise answers the conflict. */
  SaveBlueprint: [[path: string, text: string, baseHash: string], SaveResult];
  DeleteBlueprint: [[path: string, baseHash: string], SaveResult];
  Draft: [[path: string, text: string], DraftSaved];
  Drafts: [[], ListedDraft[] | null];
  DiscardDraft: [[path: string], null];
  /** EditBlueprint that makes an edit bringing lint problems, answering them as diagnostics (the forms). */
  EditDraft: [[path: string, text: string, ops: EditOp[]], Edited];
  Roles: [[], RoleSummary[] | null];
  Tools: [[], ToolInfo[] | null];
  BlueprintTemplates: [[], BlueprintTemplate[] | null];
  /** The unsaved document (hash "") of a new blueprint from a template or a copy. */
  NewBlueprint: [[req: NewBlueprintRequest], BlueprintDocument];
}

export type MethodName = keyof Methods;
