package replay_test

import (
	"context"
	"strings"
	"testing"

	"factorydesk/backend"
	"factorydesk/backend/model/replay"
)

func request(user string) backend.ChatRequest {
	return backend.ChatRequest{Model: "m", Messages: []backend.Message{{Role: "system", Content: "be brief"}, {Role: "user", Content: user}}}
}

func recorded(t *testing.T, step string, attempt, seq int, req backend.ChatRequest, answer string) replay.Call {
	t.Helper()
	data, hash, err := backend.RequestBlob(req)
	if err != nil {
		t.Fatal(err)
	}
	return replay.Call{ModelCall: backend.ModelCall{StepID: step, Attempt: attempt, Seq: seq, Model: "m", PromptHash: hash, TokensIn: 7},
		Request: data, Answer: answer}
}

func TestChat(t *testing.T) {
	at := func(step string, attempt int) context.Context {
		return backend.WithCallSite(context.Background(), backend.CallSite{StepID: step, Attempt: attempt})
	}
	tests := []struct {
		name, step string
		req        backend.ChatRequest
		want       string // the answer, or part of the error
		diverged   string // part of the divergence reason, "" for none
	}{
		{"by hash", "a", request("line 1\nline 2\n"), "answer a", ""},
		{"by hash at another position", "zz", request("other"), "answer b", ""},
		{"by position when the request differs", "a", request("line 1\nline two\n"), "answer a", `differs at line 2: was "line 2", is "line two"`},
		{"nothing recorded", "c", request("new"), "no call 1 of attempt 1 of step c", "no call 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := replay.New([]replay.Call{
				recorded(t, "a", 1, 1, request("line 1\nline 2\n"), "answer a"),
				recorded(t, "b", 1, 1, request("other"), "answer b"),
			})
			p := rec.Provider(backend.ProviderOllama)
			before := len(rec.Divergences())
			resp, err := p.Chat(at(tt.step, 1), tt.req, nil)
			got := resp.Content
			if err != nil {
				got = err.Error()
			}
			if !strings.Contains(got, tt.want) {
				t.Errorf("Chat = %q, want %q", got, tt.want)
			}
			divs := rec.Divergences()[before:]
			switch {
			case tt.diverged == "" && len(divs) > 0:
				t.Errorf("divergence %+v, want none", divs)
			case tt.diverged != "" && (len(divs) != 1 || !strings.Contains(divs[0].Reason, tt.diverged)):
				t.Errorf("divergences %+v, want one with %q", divs, tt.diverged)
			}
		})
	}
}
