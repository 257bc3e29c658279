package ollama_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"factorydesk/backend/model/modeltest"
	"factorydesk/backend/model/ollama"
)

// BenchmarkStream measures tokens per second of a long streamed answer read
// through the provider against a raw HTTP read of the same stream.
func BenchmarkStream(b *testing.B) {
	const tokens = 4000
	srv := modeltest.NewOllama(b)
	content := strings.Repeat("tok ", tokens)
	srv.Respond(func(modeltest.Request) modeltest.Reply {
		return modeltest.Reply{Content: content, Chunks: tokens}
	})
	p := ollama.New(ollama.Config{Host: srv.URL()})
	body := `{"model":"` + modeltest.DefaultModel + `","messages":[{"role":"user","content":"go"}]}`
	var viaProvider, viaRaw time.Duration
	n := 0
	for b.Loop() {
		start := time.Now()
		resp, err := p.Chat(b.Context(), chatReq(modeltest.DefaultModel), func(string) {})
		if err != nil || resp.Content != content {
			b.Fatalf("chat: %v", err)
		}
		viaProvider += time.Since(start)

		start = time.Now()
		hr, err := http.Post(srv.URL()+"/api/chat", "application/json", strings.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, hr.Body); err != nil {
			b.Fatal(err)
		}
		hr.Body.Close()
		viaRaw += time.Since(start)
		n++
	}
	provTPS := float64(tokens*n) / viaProvider.Seconds()
	rawTPS := float64(tokens*n) / viaRaw.Seconds()
	b.ReportMetric(provTPS, "provider_tok/s")
	b.ReportMetric(rawTPS, "raw_tok/s")
	b.ReportMetric(provTPS/rawTPS, "ratio")
}
