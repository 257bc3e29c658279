import type { ModelCall } from "../api/types";
import { useBlob } from "../hooks/data";
import { parseAnswer, parsePrompt } from "../lib/prompt";
import { ErrorNote } from "../components/Status";

/** PromptView shows the messages of a call's prompt blob. */
export function PromptView({ call }: { call: ModelCall | undefined }) {
  const b = useBlob(call?.prompt_hash);
  if (!call) return <p className="muted">No model call recorded for this attempt yet.</p>;
  if (b.error) return <ErrorNote error={b.error} />;
  if (b.loading && !b.data) return <div className="muted">loading prompt…</div>;
  const p = parsePrompt(b.data ?? "");
  if (!p) return <pre className="code">{b.data}</pre>;
  return (
    <div className="prompt" data-testid="step-prompt">
      {p.messages.map((m, i) => (
        <details key={i} open={m.role !== "system"} className={`msg msg-${m.role}`}>
          <summary>
            {m.role} <span className="muted small">{m.content.length} chars</span>
          </summary>
          <pre className="code">{m.content}</pre>
        </details>
      ))}
      {p.options && (
        <div className="muted small">
          options: <code>{JSON.stringify(p.options)}</code>
        </div>
      )}
      {p.schema !== undefined && (
        <details>
          <summary className="muted small">response schema</summary>
          <pre className="code">{JSON.stringify(p.schema, null, 2)}</pre>
        </details>
      )}
    </div>
  );
}

/** AnswerView shows the live streamed answer, or the recorded answer of a call. */
export function AnswerView({ call, streamed, live }: { call: ModelCall | undefined; streamed: string | undefined; live: boolean }) {
  const b = useBlob(live ? undefined : call?.answer_hash);
  // Until the recorded answer has loaded, the streamed one stands in for it.
  const recorded = !live && call !== undefined && b.data !== undefined;
  const text = live || !call ? streamed ?? "" : b.data ?? streamed ?? "";
  const answer = parseAnswer(text);
  return (
    <div className="answer" data-testid="step-answer" data-live={live ? "true" : "false"} data-recorded={recorded ? "true" : "false"}>
      {b.error && <ErrorNote error={b.error} />}
      {call?.error && <ErrorNote error={`model call failed: ${call.error}`} />}
      {text === "" && <p className="muted">{live ? "waiting for the first token…" : "No answer recorded."}</p>}
      {answer ? (
        <>
          {answer.notes && <p className="notes">{answer.notes}</p>}
          <div className="muted small">{answer.files.length} file(s) in the answer: {answer.files.map((f) => f.path).join(", ")}</div>
          <details>
            <summary className="muted small">raw answer</summary>
            <pre className="code">{text}</pre>
          </details>
        </>
      ) : (
        text !== "" && <pre className="code streaming">{text}{live && <span className="caret">▍</span>}</pre>
      )}
    </div>
  );
}
