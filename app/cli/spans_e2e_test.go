package cli_test

import (
	"context"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"

	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"factorydesk/backend"
	"factorydesk/backend/model/modeltest"
)

// otlpReceiver is an OTLP/HTTP trace receiver: it decodes each export
// request with the OTLP protobuf types and keeps the spans.
type otlpReceiver struct {
	srv   *httptest.Server
	mu    sync.Mutex
	spans map[string]string // span id -> name
	trace map[string]bool   // trace ids seen
}

func newOTLPReceiver(t *testing.T) *otlpReceiver {
	t.Helper()
	r := &otlpReceiver{spans: map[string]string{}, trace: map[string]bool{}}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path != "/v1/traces" {
			http.NotFound(w, req)
			return
		}
		body, err := io.ReadAll(req.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var export coltrace.ExportTraceServiceRequest
		if err := proto.Unmarshal(body, &export); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.mu.Lock()
		for _, rs := range export.ResourceSpans {
			for _, ss := range rs.ScopeSpans {
				for _, s := range ss.Spans {
					r.spans[hex.EncodeToString(s.SpanId)] = s.Name
					r.trace[hex.EncodeToString(s.TraceId)] = true
				}
			}
		}
		r.mu.Unlock()
		out, _ := proto.Marshal(&coltrace.ExportTraceServiceResponse{})
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.Write(out)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func TestSpansOfARun(t *testing.T) {
	ws := workspace(t)
	srv := modeltest.NewOllama(t)
	srv.Respond(func(modeltest.Request) modeltest.Reply {
		return modeltest.Reply{Content: modeltest.FilesAnswer(helloFiles, "done"), PromptTokens: 321, EvalTokens: 123}
	})
	otlp := newOTLPReceiver(t)
	env := append(ollamaEnv(srv), "OTEL_EXPORTER_OTLP_ENDPOINT="+otlp.srv.URL, "OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf")
	id := runID(t, ws, env, "run", "hello", "--model", "ollama:"+modeltest.DefaultModel)

	db := openDB(t, ws)
	ctx := context.Background()
	spans, err := db.Spans(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	d, err := db.Run(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]backend.Span{}
	byName := map[string][]backend.Span{}
	for _, s := range spans {
		byID[s.SpanID] = s
		name, _, _ := strings.Cut(s.Name, " ")
		byName[name] = append(byName[name], s)
		if s.TraceID != id {
			t.Errorf("span %s has trace id %s, want the run id", s.Name, s.TraceID)
		}
	}
	parentName := func(s backend.Span) string {
		p, ok := byID[s.ParentID]
		if !ok {
			return ""
		}
		name, _, _ := strings.Cut(p.Name, " ")
		return name
	}

	t.Run("tree and GenAI attributes in SQLite", func(t *testing.T) {
		if len(byName["run"]) != 1 || len(byName["invoke_agent"]) != 1 || len(byName["chat"]) != 1 || len(byName["write"]) != 3 {
			t.Fatalf("spans by name: %v", names(spans))
		}
		run, agent, chat := byName["run"][0], byName["invoke_agent"][0], byName["chat"][0]
		if run.ParentID != "" || run.StatusCode != backend.SpanOK || run.Attributes["factory.blueprint.version"] != d.Run.BlueprintVersion {
			t.Errorf("run span = %+v", run)
		}
		if parentName(agent) != "run" || agent.Attributes["gen_ai.agent.name"] != "backend-developer" ||
			agent.Attributes["gen_ai.operation.name"] != "invoke_agent" || agent.Attributes["factory.step"] != "hello" {
			t.Errorf("invoke_agent span = %+v", agent)
		}
		want := map[string]any{
			"gen_ai.operation.name":      "chat",
			"gen_ai.provider.name":       "ollama",
			"gen_ai.request.model":       modeltest.DefaultModel,
			"gen_ai.response.model":      modeltest.DefaultModel,
			"gen_ai.usage.input_tokens":  int64(321),
			"gen_ai.usage.output_tokens": int64(123),
			"factory.prompt.sha256":      d.Calls[0].PromptHash,
			"factory.answer.sha256":      d.Calls[0].AnswerHash,
		}
		for k, v := range want {
			if chat.Attributes[k] != v {
				t.Errorf("chat span %s = %#v, want %#v", k, chat.Attributes[k], v)
			}
		}
		if parentName(chat) != "invoke_agent" || chat.End.Before(chat.Start) {
			t.Errorf("chat span = %+v", chat)
		}
		hashes := map[string]string{}
		for _, a := range d.Artifacts {
			hashes[a.Path] = a.SHA256
		}
		for _, w := range byName["write"] {
			path, _ := w.Attributes["file.path"].(string)
			if parentName(w) != "invoke_agent" || w.Attributes["factory.file.sha256"] != hashes[path] {
				t.Errorf("write span = %+v", w)
			}
		}
	})

	t.Run("the same spans reach the OTLP receiver", func(t *testing.T) {
		otlp.mu.Lock()
		defer otlp.mu.Unlock()
		if len(otlp.spans) != len(spans) || !otlp.trace[id] || len(otlp.trace) != 1 {
			t.Fatalf("OTLP received %d spans of traces %v; SQLite has %d", len(otlp.spans), otlp.trace, len(spans))
		}
		for _, s := range spans {
			if otlp.spans[s.SpanID] != s.Name {
				t.Errorf("OTLP span %s = %q, want %q", s.SpanID, otlp.spans[s.SpanID], s.Name)
			}
		}
	})

	t.Run("show --spans prints the tree", func(t *testing.T) {
		text := must(t, factory(t, ws, nil, "show", id[:8], "--spans"), 0).stdout
		for _, want := range []string{"run", "invoke_agent backend-developer", "chat " + modeltest.DefaultModel, "write main.go"} {
			if !strings.Contains(text, want) {
				t.Errorf("show --spans lacks %q:\n%s", want, text)
			}
		}
		var tree []struct {
			Name       string `json:"name"`
			DurationNS int64  `json:"duration_ns"`
			Children   []struct {
				Name     string `json:"name"`
				Children []struct {
					Name string `json:"name"`
				} `json:"children"`
			} `json:"children"`
		}
		decode(t, must(t, factory(t, ws, nil, "show", id, "--spans", "--json"), 0).stdout, &tree)
		if len(tree) != 1 || tree[0].Name != "run" || len(tree[0].Children) == 0 || tree[0].DurationNS <= 0 {
			t.Fatalf("span tree = %+v", tree)
		}
	})
}

func names(spans []backend.Span) []string {
	out := make([]string, len(spans))
	for i, s := range spans {
		out[i] = s.Name
	}
	sort.Strings(out)
	return out
}
