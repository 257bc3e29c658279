// Shared test data: a small recorded run (design -> code -> tests, pipeline).

import type { RunDetail } from "../api/types";

const zero = "0001-01-01T00:00:00Z";

/** sampleDetail is a run whose code step failed once, then passed, and whose tests await review. */
export function sampleDetail(): RunDetail {
  return {
    run: {
      id: "r1",
      blueprint: "orders",
      blueprint_version: "v1",
      blueprint_path: "blueprints/orders.md",
      model: "ollama:qwen",
      output: "out/orders",
      status: "awaiting_review",
      parallel: 2,
      tokens_in: 300,
      tokens_out: 120,
      calls: 3,
      started_at: "2025-01-01T10:00:00Z",
      ended_at: zero,
    },
    steps: [
      { run_id: "r1", step: "design", role: "architect", model: "ollama:qwen", status: "succeeded", attempts: 1, tokens_in: 100, tokens_out: 40, started_at: "2025-01-01T10:00:00Z", ended_at: "2025-01-01T10:00:10Z" },
      { run_id: "r1", step: "code", role: "dev", model: "ollama:qwen", status: "succeeded", attempts: 2, needs: ["design"], tokens_in: 200, tokens_out: 80, started_at: "2025-01-01T10:00:10Z", ended_at: "2025-01-01T10:00:40Z" },
      { run_id: "r1", step: "tests", role: "qa", model: "ollama:qwen", status: "awaiting_review", attempts: 1, needs: ["code"], tokens_in: 0, tokens_out: 0, started_at: "2025-01-01T10:00:40Z", ended_at: zero },
      { run_id: "r1", step: "pipeline", role: "devops", model: "ollama:qwen", status: "succeeded", attempts: 0, needs: ["code"], cache_hit: true, tokens_in: 0, tokens_out: 0, started_at: "2025-01-01T10:00:40Z", ended_at: "2025-01-01T10:00:40Z" },
    ],
    attempts: [
      { run_id: "r1", step: "design", n: 1, status: "succeeded", started_at: "2025-01-01T10:00:00Z", ended_at: "2025-01-01T10:00:10Z" },
      { run_id: "r1", step: "code", n: 1, status: "failed", error: "go build: undefined: Order", started_at: "2025-01-01T10:00:10Z", ended_at: "2025-01-01T10:00:20Z" },
      { run_id: "r1", step: "code", n: 2, status: "succeeded", feedback: "go build: undefined: Order", started_at: "2025-01-01T10:00:20Z", ended_at: "2025-01-01T10:00:40Z" },
      { run_id: "r1", step: "tests", n: 1, status: "succeeded", started_at: "2025-01-01T10:00:40Z", ended_at: "2025-01-01T10:00:50Z" },
    ],
    calls: [
      { id: 1, run_id: "r1", step: "design", attempt: 1, seq: 1, provider: "ollama", model: "qwen", prompt_hash: "p1", answer_hash: "a1", tokens_in: 100, tokens_out: 40, duration_ns: 9e9, first_token_ns: 1e9, started_at: "2025-01-01T10:00:00.5Z" },
      { id: 2, run_id: "r1", step: "code", attempt: 1, seq: 1, provider: "ollama", model: "qwen", prompt_hash: "p2", answer_hash: "a2", tokens_in: 100, tokens_out: 40, duration_ns: 8e9, first_token_ns: 1e9, started_at: "2025-01-01T10:00:10.5Z" },
      { id: 3, run_id: "r1", step: "code", attempt: 2, seq: 1, provider: "ollama", model: "qwen", prompt_hash: "p3", answer_hash: "a3", tokens_in: 100, tokens_out: 40, duration_ns: 15e9, first_token_ns: 1e9, started_at: "2025-01-01T10:00:20.5Z" },
    ],
    artifacts: [
      { run_id: "r1", step: "code", attempt: 1, path: "main.go", sha256: "h1", size: 10, created_at: "2025-01-01T10:00:19Z" },
      { run_id: "r1", step: "code", attempt: 2, path: "main.go", sha256: "h2", size: 12, created_at: "2025-01-01T10:00:39Z" },
      { run_id: "r1", step: "code", attempt: 2, path: "go.mod", sha256: "h3", size: 5, created_at: "2025-01-01T10:00:39Z" },
    ],
  };
}

/** at returns the epoch milliseconds of a time on the sample day. */
export function at(hms: string): number {
  return Date.parse(`2025-01-01T${hms}Z`);
}
