package agent

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"factorydesk/backend"
	"factorydesk/backend/tools"
)

// Bounds of one turn's tool calls and of what the tools of one attempt
// may give back in all.
const (
	MaxCallsPerTurn = 16        // executed in one turn; the rest are refused
	maxCallsKept    = 64        // kept of one turn; the rest are dropped
	maxToolBytes    = 256 << 10 // results given in one attempt; then calls are refused
)

// conversation is one attempt's exchange with its model: the messages so
// far and what was recorded.
type conversation struct {
	a     *Agent
	req   backend.AttemptRequest
	res   *backend.AttemptResult
	msgs  []backend.Message
	env   *tools.Env
	bytes int // tool result bytes given so far
}

// converse gets the attempt's answer: one call with the structured output
// schema when the role has no tools; else turns in which the model may call
// its tools, each call run and answered, until it answers without calling
// one or max_turns turns are used, when a last call without tools asks for
// the answer. A model that cannot call tools gets the one call instead.
func (a *Agent) converse(ctx context.Context, req backend.AttemptRequest, msgs []backend.Message, res *backend.AttemptResult) (string, error) {
	var skills []string
	if req.Role != nil {
		skills = req.Role.Skills
	}
	defs := a.tools.Definitions(skills)
	c := &conversation{a: a, req: req, res: res}
	if len(defs) == 0 {
		return c.answer(ctx, msgs, 1)
	}
	maxTurns := req.Tools.MaxTurns
	if maxTurns <= 0 {
		maxTurns = backend.DefaultMaxTurns
	}
	c.env = &tools.Env{Root: req.OutputDir, Skills: skills, Lessons: req.Lessons, Writes: req.Step.Writes,
		Exclude: req.Tools.Unseen, Checks: req.Tools.Checks, ScratchDir: req.Tools.ScratchDir, Redact: a.redact}
	c.msgs = withToolGuide(msgs, defs, maxTurns)
	for turn := 1; turn <= maxTurns; turn++ {
		resp, err := c.call(ctx, backend.ChatRequest{Model: req.Model.Model, Messages: c.msgs, Options: req.Options, Tools: defs}, turn)
		switch {
		case turn == 1 && errors.Is(err, backend.ErrToolsUnsupported):
			res.ToolsUnsupported = true
			return c.answer(ctx, msgs, 1)
		case err != nil:
			return "", err
		case len(resp.ToolCalls) == 0:
			if _, _, perr := ParseAnswer(resp.Content); perr != nil {
				c.msgs = append(c.msgs, backend.Message{Role: "assistant", Content: resp.Content}, backend.Message{Role: "user",
					Content: "That is not the answer the output contract asks for (" + perr.Error() + "). Answer now with the JSON object only."})
				return c.answer(ctx, c.msgs, turn+1)
			}
			return resp.Content, nil
		}
		c.runTools(ctx, turn, resp)
		if err := ctx.Err(); err != nil {
			return "", callError(ctx, req.Model, err)
		}
	}
	c.msgs = append(c.msgs, backend.Message{Role: "user", Content: fmt.Sprintf(
		"You have used the %d turns of tool calls this step allows. Answer now with the JSON object of the output contract.", maxTurns)})
	return c.answer(ctx, c.msgs, maxTurns+1)
}

// answer makes the call that asks for the answer with the structured
// output schema and no tools.
func (c *conversation) answer(ctx context.Context, msgs []backend.Message, turn int) (string, error) {
	req := c.req
	resp, err := c.call(ctx, backend.ChatRequest{Model: req.Model.Model, Messages: msgs, Schema: Schema(), Options: req.Options}, turn)
	return resp.Content, err
}

// call makes one model call and records it; before any call but the
// attempt's first, the budget is asked. A provider's error keeps its code.
func (c *conversation) call(ctx context.Context, creq backend.ChatRequest, turn int) (backend.ChatResponse, error) {
	req, res := c.req, c.res
	if len(res.Calls) > 0 && req.Tools.Budget != nil {
		tokens := 0
		for _, cr := range res.Calls {
			tokens += cr.Response.InputTokens + cr.Response.OutputTokens
		}
		if err := req.Tools.Budget(tokens, len(res.Calls)); err != nil {
			return backend.ChatResponse{}, err
		}
	}
	creq.Messages = append([]backend.Message(nil), creq.Messages...)
	creq.MaxAnswerBytes = req.Step.MaxAnswerBytes()
	started := c.a.now()
	resp, err := req.Provider.Chat(ctx, creq, req.OnToken)
	rec := backend.CallRecord{Seq: len(res.Calls) + 1, Turn: turn, Provider: req.Provider.Name(),
		Request: creq, Response: resp, Err: err, StartedAt: started}
	res.Calls = append(res.Calls, rec)
	if req.Tools.OnCall != nil {
		req.Tools.OnCall(rec)
	}
	if err != nil {
		return resp, callError(ctx, req.Model, err)
	}
	return resp, nil
}

// runTools runs a turn's tool calls and adds the model's message and one
// tool message per call to the conversation.
func (c *conversation) runTools(ctx context.Context, turn int, resp backend.ChatResponse) {
	calls := resp.ToolCalls
	dropped := 0
	if len(calls) > maxCallsKept {
		calls, dropped = calls[:maxCallsKept], len(calls)-maxCallsKept
	}
	calls = append([]backend.ToolCall(nil), calls...)
	for i := range calls {
		if calls[i].ID == "" {
			calls[i].ID = fmt.Sprintf("call_%d_%d", turn, i+1)
		}
	}
	c.msgs = append(c.msgs, backend.Message{Role: "assistant", Content: resp.Content, ToolCalls: calls})
	for i, call := range calls {
		started := c.a.now()
		var result tools.Result
		switch {
		case i >= MaxCallsPerTurn:
			result = tools.Result{Status: backend.ToolRefused, Content: fmt.Sprintf(
				"refused: at most %d tool calls run in one turn; make this call again in the next turn", MaxCallsPerTurn)}
		case c.bytes >= maxToolBytes:
			result = tools.Result{Status: backend.ToolRefused, Content: fmt.Sprintf(
				"refused: this attempt's tool results reached %d bytes; answer with what you have", maxToolBytes)}
		default:
			result = c.a.tools.Call(ctx, c.env, call)
		}
		if i == len(calls)-1 && dropped > 0 {
			result.Content += fmt.Sprintf("\n[%d more tool calls of this turn were dropped: at most %d are kept]", dropped, maxCallsKept)
		}
		c.bytes += len(result.Content)
		rec := backend.ToolRecord{Turn: turn, Seq: len(c.res.Tools) + 1, CallID: call.ID, Name: call.Name,
			Arguments: call.Arguments, Result: result.Content, Status: result.Status,
			StartedAt: started, Duration: c.a.now().Sub(started)}
		c.res.Tools = append(c.res.Tools, rec)
		if c.req.Tools.OnTool != nil {
			c.req.Tools.OnTool(rec)
		}
		c.msgs = append(c.msgs, backend.Message{Role: "tool", Content: result.Content, ToolCallID: call.ID, ToolName: call.Name})
	}
}

// withToolGuide returns msgs with the system message telling the model
// how its tools work.
func withToolGuide(msgs []backend.Message, defs []backend.Tool, maxTurns int) []backend.Message {
	names := make([]string, len(defs))
	for i, d := range defs {
		names[i] = d.Name
	}
	guide := fmt.Sprintf("# Tools\n\n"+
		"Before you answer you may call your tools (%s) to look at the output folder: the files the steps "+
		"before this one wrote, and files the operator keeps there. Paths are relative to the output folder. "+
		"You have at most %d turns of tool calls. When you know enough, answer with the JSON object of the "+
		"output contract and call no tool; the files you answer with are the only ones written.\n",
		strings.Join(names, ", "), maxTurns)
	out := append([]backend.Message(nil), msgs...)
	if len(out) > 0 && out[0].Role == "system" {
		out[0].Content = strings.TrimRight(out[0].Content, "\n") + "\n\n" + guide
		return out
	}
	return append([]backend.Message{{Role: "system", Content: guide}}, out...)
}
