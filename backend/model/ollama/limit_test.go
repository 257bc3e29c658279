package ollama_test

import (
	"testing"

	"factorydesk/backend"
	"factorydesk/backend/model/modeltest"
)

// TestChatStopsAtTheAnswerLimit: an answer (text or tool calls) longer than
// the request's limit fails the call with EINVALID, keeping no more than
// the limit of it.
func TestChatStopsAtTheAnswerLimit(t *testing.T) {
	for name, reply := range modeltest.AnswerLimitCases() {
		t.Run(name, func(t *testing.T) {
			srv := modeltest.NewOllama(t)
			srv.Enqueue(reply)
			p := newProvider(t, srv)
			modeltest.CheckAnswerLimit(t, chatReq(modeltest.DefaultModel), func(req backend.ChatRequest, on func(string)) (backend.ChatResponse, error) {
				return p.Chat(t.Context(), req, on)
			})
		})
	}
}
