package ollama_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"factorydesk/backend"
	"factorydesk/backend/model/ollama"
	"factorydesk/backend/model/openai"
)

// The tests in this file drive a real Ollama server serving a tiny model,
// as `.ci/ollama.sh test` starts one. Without FACTORY_OLLAMA_HOST they skip.

// filesSchema is the factory's structured answer.
const filesSchema = `{"type":"object","properties":{"files":{"type":"array","items":{"type":"object",` +
	`"properties":{"path":{"type":"string"},"content":{"type":"string"}},"required":["path","content"]}},` +
	`"notes":{"type":"string"}},"required":["files","notes"]}`

// realServer returns the real server's host and model, or skips the test.
func realServer(tb testing.TB) (host, model string) {
	tb.Helper()
	host = os.Getenv("FACTORY_OLLAMA_HOST")
	if host == "" {
		tb.Skip("FACTORY_OLLAMA_HOST not set (.ci/ollama.sh test starts a real Ollama and sets it)")
	}
	model = os.Getenv("FACTORY_OLLAMA_MODEL")
	if model == "" {
		model = "tiny"
	}
	return strings.TrimRight(host, "/"), model
}

// realProvider is one way of talking to the real server.
type realProvider struct {
	name string
	p    backend.Provider
	// notFound is what an unknown model's error must say besides its name.
	notFound string
}

func realProviders(host string) []realProvider {
	return []realProvider{
		{"ollama", ollama.New(ollama.Config{Host: host}), "ollama pull"},
		{"openai", openai.New(openai.Config{BaseURL: host + "/v1"}), "not found"},
	}
}

func userMessages(text string) []backend.Message {
	return []backend.Message{
		{Role: "system", Content: "You write files."},
		{Role: "user", Content: text},
	}
}

func TestRealOllama(t *testing.T) {
	host, model := realServer(t)
	for _, rp := range realProviders(host) {
		t.Run(rp.name, func(t *testing.T) {
			t.Run("list", func(t *testing.T) { testRealList(t, rp, model) })
			t.Run("chat with schema", func(t *testing.T) { testRealSchemaChat(t, rp, model) })
			t.Run("runs to num_predict", func(t *testing.T) { testRealLength(t, rp, model) })
			t.Run("options max_tokens caps the answer", func(t *testing.T) { testRealMaxTokens(t, rp, model) })
			t.Run("cancel during generation", func(t *testing.T) { testRealCancel(t, rp, model) })
			t.Run("unknown model", func(t *testing.T) { testRealUnknownModel(t, rp) })
		})
	}
}

func testRealList(t *testing.T, rp realProvider, model string) {
	models, err := rp.p.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range models {
		names = append(names, m.Name)
	}
	if !slices.Contains(names, model) && !slices.Contains(names, model+":latest") {
		t.Errorf("List = %v, want %s among them", names, model)
	}
}

func testRealSchemaChat(t *testing.T, rp realProvider, model string) {
	// A random model may run out of tokens inside a string; the seeds are
	// tried in turn until an answer ends by itself.
	for _, seed := range []int{6, 1, 3, 5} {
		var streamed strings.Builder
		resp, err := rp.p.Chat(t.Context(), backend.ChatRequest{
			Model:    model,
			Messages: userMessages("Write main.go."),
			Schema:   json.RawMessage(filesSchema),
			Options:  map[string]any{"seed": seed, "temperature": 0.8, "num_predict": 1500},
		}, func(s string) { streamed.WriteString(s) })
		if err != nil {
			t.Fatal(err)
		}
		if streamed.String() != resp.Content {
			t.Errorf("streamed pieces add up to %d bytes, content has %d", streamed.Len(), len(resp.Content))
		}
		if resp.DoneReason == "length" {
			t.Logf("seed %d: the answer reached num_predict (%d tokens); trying the next seed", seed, resp.OutputTokens)
			continue
		}
		checkSchemaAnswer(t, resp, model)
		return
	}
	t.Fatal("no seed gave an answer that ended by itself")
}

// checkSchemaAnswer checks an answer is the schema's JSON, with real counts.
func checkSchemaAnswer(t *testing.T, resp backend.ChatResponse, model string) {
	t.Helper()
	var ans struct {
		Files []struct {
			Path    *string `json:"path"`
			Content *string `json:"content"`
		} `json:"files"`
		Notes *string `json:"notes"`
	}
	if err := json.Unmarshal([]byte(resp.Content), &ans); err != nil {
		t.Fatalf("answer is not the schema's JSON (%v; done reason %q): %.300q", err, resp.DoneReason, resp.Content)
	}
	if ans.Notes == nil || ans.Files == nil {
		t.Errorf("answer lacks files or notes: %.300q", resp.Content)
	}
	for i, f := range ans.Files {
		if f.Path == nil || f.Content == nil {
			t.Errorf("file %d lacks path or content", i)
		}
	}
	if resp.InputTokens <= 0 || resp.OutputTokens <= 0 || resp.Duration <= 0 || resp.FirstToken <= 0 || resp.FirstToken > resp.Duration {
		t.Errorf("tokens in %d out %d, duration %v, first token %v: want real counts and times",
			resp.InputTokens, resp.OutputTokens, resp.Duration, resp.FirstToken)
	}
	if !strings.HasPrefix(resp.Model, model) {
		t.Errorf("model = %q, want %s", resp.Model, model)
	}
	t.Logf("%d files, %d bytes, %d+%d tokens in %v (first token %v), done reason %q",
		len(ans.Files), len(resp.Content), resp.InputTokens, resp.OutputTokens, resp.Duration, resp.FirstToken, resp.DoneReason)
}

func testRealLength(t *testing.T, rp realProvider, model string) {
	resp, err := rp.p.Chat(t.Context(), backend.ChatRequest{
		Model:    model,
		Messages: userMessages("Say hello."),
		Options:  map[string]any{"seed": 1, "num_predict": 40},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.DoneReason != "length" || resp.OutputTokens != 40 || resp.Content == "" {
		t.Errorf("done reason %q, %d tokens, %d bytes; want length, 40 tokens, some text",
			resp.DoneReason, resp.OutputTokens, len(resp.Content))
	}
}

// testRealMaxTokens sends a blueprint's options (max_tokens, seed,
// temperature, stop) as the engine does: each provider translates them, and
// the real server stops the answer at max_tokens.
func testRealMaxTokens(t *testing.T, rp realProvider, model string) {
	seed, temp, limit := int64(2), 0.7, 24
	opts := backend.ModelOptions{Seed: &seed, Temperature: &temp, MaxTokens: &limit, Stop: []string{"\u0000"}}
	resp, err := rp.p.Chat(t.Context(), backend.ChatRequest{
		Model:    model,
		Messages: userMessages("Write a long story."),
		Options:  opts.Map(),
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.DoneReason != "length" || resp.OutputTokens != limit || resp.Content == "" {
		t.Errorf("done reason %q, %d tokens, %d bytes; want length, %d tokens, some text",
			resp.DoneReason, resp.OutputTokens, len(resp.Content), limit)
	}
}

func testRealCancel(t *testing.T, rp realProvider, model string) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	first := make(chan struct{})
	type result struct {
		resp backend.ChatResponse
		err  error
	}
	done := make(chan result, 1)
	go func() {
		var once bool
		resp, err := rp.p.Chat(ctx, backend.ChatRequest{
			Model:    model,
			Messages: userMessages("Write a long story."),
			Options:  map[string]any{"num_predict": 100000, "num_ctx": 2048},
		}, func(string) {
			if !once {
				once = true
				close(first)
			}
		})
		done <- result{resp, err}
	}()
	select {
	case <-first:
	case r := <-done:
		t.Fatalf("Chat ended before its first token: %v", r.err)
	case <-time.After(60 * time.Second):
		t.Fatal("no token within 60 s")
	}
	canceled := time.Now()
	cancel()
	select {
	case r := <-done:
		t.Logf("returned %v after cancel, with %d bytes", time.Since(canceled), len(r.resp.Content))
		if backend.ErrorCode(r.err) != backend.ECANCELED {
			t.Errorf("error = %v (code %q), want a cancel", r.err, backend.ErrorCode(r.err))
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Chat did not return within 30 s of cancel")
	}
}

func testRealUnknownModel(t *testing.T, rp realProvider) {
	const name = "no-such-model-here:1b"
	_, err := rp.p.Chat(t.Context(), backend.ChatRequest{Model: name, Messages: userMessages("hi")}, nil)
	if backend.ErrorCode(err) != backend.ENOTFOUND || !strings.Contains(err.Error(), name) || !strings.Contains(err.Error(), rp.notFound) {
		t.Errorf("error = %v (code %q), want not found naming %s and saying %q", err, backend.ErrorCode(err), name, rp.notFound)
	}
}

func TestRealOllamaPullUnknown(t *testing.T) {
	host, _ := realServer(t)
	p := ollama.New(ollama.Config{Host: host})
	const name = "factory-no-such-model:0.1b"
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	start := time.Now()
	var statuses []string
	err := p.Pull(ctx, name, func(pp backend.PullProgress) { statuses = append(statuses, pp.Status) })
	t.Logf("pull failed after %v with progress %q: %v", time.Since(start), statuses, err)
	if err == nil || ctx.Err() != nil {
		t.Fatalf("Pull = %v (context %v), want a prompt failure", err, ctx.Err())
	}
	if !strings.Contains(err.Error(), name) {
		t.Errorf("error %q does not name the model", err)
	}
	models, err := p.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range models {
		if strings.HasPrefix(m.Name, "factory-no-such-model") {
			t.Errorf("failed pull left model %s behind", m.Name)
		}
	}
}

// directChat streams one chat answer from the server with plain HTTP and
// returns the tokens the server counted and the time to the first piece.
func directChat(tb testing.TB, host string, body []byte) (tokens int, firstToken time.Duration) {
	tb.Helper()
	start := time.Now()
	resp, err := http.Post(host+"/api/chat", "application/json", bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		var chunk struct {
			Message   struct{ Content string } `json:"message"`
			Done      bool                     `json:"done"`
			EvalCount int                      `json:"eval_count"`
			Error     string                   `json:"error"`
		}
		if err := json.Unmarshal(sc.Bytes(), &chunk); err != nil || chunk.Error != "" {
			tb.Fatalf("bad chunk %q: %v", sc.Bytes(), err)
		}
		if chunk.Message.Content != "" && firstToken == 0 {
			firstToken = time.Since(start)
		}
		if chunk.Done {
			return chunk.EvalCount, firstToken
		}
	}
	tb.Fatalf("stream ended without its final chunk: %v", sc.Err())
	return 0, 0
}

// BenchmarkRealOllamaStream compares one generation streamed through the
// provider with the same generation read straight off the wire.
func BenchmarkRealOllamaStream(b *testing.B) {
	host, model := realServer(b)
	p := ollama.New(ollama.Config{Host: host})
	opts := map[string]any{"seed": 3, "temperature": 0.8, "num_predict": 256}
	req := backend.ChatRequest{Model: model, Messages: userMessages("Write a story."), Options: opts}
	body, err := json.Marshal(map[string]any{"model": model, "messages": req.Messages, "options": opts, "stream": true})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := p.Chat(b.Context(), req, nil); err != nil { // load the model
		b.Fatal(err)
	}
	var projTokens, directTokens int
	var projTime, directTime, projFirst, directFirst time.Duration
	var projFirsts, directFirsts []time.Duration
	viaProvider := func() {
		start := time.Now()
		resp, err := p.Chat(b.Context(), req, func(string) {})
		if err != nil {
			b.Fatal(err)
		}
		projTime += time.Since(start)
		projTokens += resp.OutputTokens
		projFirst += resp.FirstToken
		projFirsts = append(projFirsts, resp.FirstToken)
	}
	direct := func() {
		start := time.Now()
		n, first := directChat(b, host, body)
		directTime += time.Since(start)
		directTokens += n
		directFirst += first
		directFirsts = append(directFirsts, first)
	}
	i := 0
	for b.Loop() {
		if i%2 == 0 { // alternate, so neither path always follows the other
			viaProvider()
			direct()
		} else {
			direct()
			viaProvider()
		}
		i++
	}
	projRate := float64(projTokens) / projTime.Seconds()
	directRate := float64(directTokens) / directTime.Seconds()
	b.ReportMetric(projRate, "provider-tok/s")
	b.ReportMetric(directRate, "direct-tok/s")
	b.ReportMetric(projRate/directRate, "rate-ratio")
	b.ReportMetric(float64(projFirst.Microseconds())/float64(b.N)/1000, "provider-ttft-ms")
	b.ReportMetric(float64(directFirst.Microseconds())/float64(b.N)/1000, "direct-ttft-ms")
	// The means carry the odd slow first token of a busy machine; the
	// medians show the usual cost.
	median := func(ds []time.Duration) float64 {
		slices.Sort(ds)
		return float64(ds[len(ds)/2].Microseconds()) / 1000
	}
	b.ReportMetric(median(projFirsts), "provider-ttft-p50-ms")
	b.ReportMetric(median(directFirsts), "direct-ttft-p50-ms")
}
