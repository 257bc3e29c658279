package modeltest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"factorydesk/backend"
)

// OllamaVersion is the version the Ollama test server reports.
const OllamaVersion = "0.17.4"

// Ollama is a test server speaking Ollama's HTTP API: /api/chat (streamed
// NDJSON or one JSON answer), /api/tags, /api/show, /api/pull, /api/delete,
// /api/version and /. Its chat answers are scripted (see Reply).
type Ollama struct {
	script
	*httpServer

	mu        sync.Mutex
	models    map[string]modelEntry // by full name, e.g. "llama3.2:latest"
	registry  map[string]bool       // models /api/pull can fetch
	pullDelay time.Duration
}

type modelEntry struct {
	name     string
	size     int64
	modified time.Time
}

// NewOllama starts an Ollama test server on a free 127.0.0.1 port for the
// length of the test. It offers DefaultModel; add more with AddModel.
func NewOllama(t testing.TB) *Ollama {
	t.Helper()
	o := newOllama()
	mustStart(t, o.httpServer, o.handler())
	return o
}

// NewOllamaServer starts an Ollama test server on addr (e.g.
// "127.0.0.1:11435"; "127.0.0.1:0" for any free port) outside a test. Stop
// it with Close.
func NewOllamaServer(addr string) (*Ollama, error) {
	o := newOllama()
	if err := o.start(addr, o.handler()); err != nil {
		return nil, err
	}
	return o, nil
}

func newOllama() *Ollama {
	o := &Ollama{httpServer: newHTTPServer(), models: map[string]modelEntry{}, registry: map[string]bool{}}
	o.AddModel(DefaultModel)
	return o
}

// AddModel makes the server offer a model, as if it had been pulled. A name
// without a tag gets ":latest", as in Ollama.
func (o *Ollama) AddModel(name string) {
	name = normalizeName(name)
	o.mu.Lock()
	defer o.mu.Unlock()
	o.models[name] = modelEntry{name: name, size: fakeSize(name), modified: time.Now().UTC().Truncate(time.Second)}
}

// SetModels replaces the models the server offers.
func (o *Ollama) SetModels(names ...string) {
	o.mu.Lock()
	o.models = map[string]modelEntry{}
	o.mu.Unlock()
	for _, n := range names {
		o.AddModel(n)
	}
}

// Models returns the names of the models the server offers, sorted.
func (o *Ollama) Models() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	names := make([]string, 0, len(o.models))
	for n := range o.models {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// AllowPull makes models available to /api/pull; pulling any other name
// fails as Ollama does for a name the registry does not know.
func (o *Ollama) AllowPull(names ...string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, n := range names {
		o.registry[normalizeName(n)] = true
	}
}

// SetPullDelay sets a pause between pull progress reports.
func (o *Ollama) SetPullDelay(d time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.pullDelay = d
}

func (o *Ollama) model(name string) (modelEntry, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	m, ok := o.models[normalizeName(name)]
	return m, ok
}

func (o *Ollama) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", o.root)
	mux.HandleFunc("HEAD /{$}", o.root)
	mux.HandleFunc("GET /api/version", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"version": OllamaVersion})
	})
	mux.HandleFunc("GET /api/tags", o.tags)
	mux.HandleFunc("POST /api/show", o.show)
	mux.HandleFunc("POST /api/pull", o.pull)
	mux.HandleFunc("DELETE /api/delete", o.delete)
	mux.HandleFunc("POST /api/chat", o.chat)
	return mux
}

func (o *Ollama) root(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("Ollama is running"))
}

// ollamaDetails is the "details" object of /api/tags and /api/show.
type ollamaDetails struct {
	ParentModel       string   `json:"parent_model"`
	Format            string   `json:"format"`
	Family            string   `json:"family"`
	Families          []string `json:"families"`
	ParameterSize     string   `json:"parameter_size"`
	QuantizationLevel string   `json:"quantization_level"`
}

func (m modelEntry) details() ollamaDetails {
	base, tag, _ := strings.Cut(m.name, ":")
	family := strings.TrimRight(strings.TrimLeft(base, "-"), "0123456789.-")
	if i := strings.IndexAny(family, "0123456789.-"); i > 0 {
		family = family[:i]
	}
	params := "7.6B"
	if size, _, _ := strings.Cut(tag, "-"); strings.HasSuffix(size, "b") {
		params = strings.ToUpper(size)
	}
	return ollamaDetails{Format: "gguf", Family: family, Families: []string{family},
		ParameterSize: params, QuantizationLevel: "Q4_K_M"}
}

func (o *Ollama) tags(w http.ResponseWriter, _ *http.Request) {
	type tag struct {
		Name       string        `json:"name"`
		Model      string        `json:"model"`
		ModifiedAt time.Time     `json:"modified_at"`
		Size       int64         `json:"size"`
		Digest     string        `json:"digest"`
		Details    ollamaDetails `json:"details"`
	}
	out := struct {
		Models []tag `json:"models"`
	}{Models: []tag{}}
	for _, n := range o.Models() {
		m, _ := o.model(n)
		out.Models = append(out.Models, tag{Name: m.name, Model: m.name, ModifiedAt: m.modified,
			Size: m.size, Digest: digest(m.name), Details: m.details()})
	}
	writeJSON(w, http.StatusOK, out)
}

// nameRequest is the body of /api/show, /api/pull and /api/delete.
type nameRequest struct {
	Model  string `json:"model"`
	Name   string `json:"name"` // the older spelling
	Stream *bool  `json:"stream"`
}

func decodeName(w http.ResponseWriter, r *http.Request) (nameRequest, bool) {
	var req nameRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return req, false
	}
	if req.Model == "" {
		req.Model = req.Name
	}
	if req.Model == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "model is required"})
		return req, false
	}
	return req, true
}

func notFound(w http.ResponseWriter, name string) {
	writeJSON(w, http.StatusNotFound, map[string]string{"error": fmt.Sprintf("model '%s' not found", name)})
}

func (o *Ollama) show(w http.ResponseWriter, r *http.Request) {
	req, ok := decodeName(w, r)
	if !ok {
		return
	}
	m, ok := o.model(req.Model)
	if !ok {
		notFound(w, req.Model)
		return
	}
	d := m.details()
	writeJSON(w, http.StatusOK, map[string]any{
		"license":    "",
		"modelfile":  "# Modelfile generated by \"ollama show\"\nFROM " + m.name + "\n",
		"parameters": "stop \"<|im_end|>\"",
		"template":   "{{ .Prompt }}",
		"details":    d,
		"model_info": map[string]any{
			"general.architecture":       d.Family,
			"general.parameter_count":    m.size * 2,
			d.Family + ".context_length": 32768,
		},
		"capabilities": []string{"completion", "tools"},
		"modified_at":  m.modified,
	})
}

func (o *Ollama) delete(w http.ResponseWriter, r *http.Request) {
	req, ok := decodeName(w, r)
	if !ok {
		return
	}
	name := normalizeName(req.Model)
	o.mu.Lock()
	_, found := o.models[name]
	delete(o.models, name)
	o.mu.Unlock()
	if !found {
		notFound(w, req.Model)
		return
	}
	w.WriteHeader(http.StatusOK)
}

func (o *Ollama) pull(w http.ResponseWriter, r *http.Request) {
	req, ok := decodeName(w, r)
	if !ok {
		return
	}
	name := normalizeName(req.Model)
	o.mu.Lock()
	known, delay := o.registry[name], o.pullDelay
	o.mu.Unlock()
	streamed := req.Stream == nil || *req.Stream
	if !streamed {
		if !known {
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "pull model manifest: file does not exist"})
			return
		}
		o.AddModel(name)
		writeJSON(w, http.StatusOK, backend.PullProgress{Status: "success"})
		return
	}
	st := newStreamer(w, "application/x-ndjson")
	send := func(v any) bool {
		b, _ := json.Marshal(v)
		return wait(delay, o.done) && st.write(append(b, '\n'))
	}
	if !send(map[string]string{"status": "pulling manifest"}) {
		return
	}
	if !known {
		send(map[string]string{"error": "pull model manifest: file does not exist"})
		return
	}
	total, dg := fakeSize(name), digest(name)
	for _, done := range []int64{0, total / 4, total / 2, total * 3 / 4, total} {
		p := map[string]any{"status": "pulling " + dg[7:19], "digest": dg, "total": total}
		if done > 0 {
			p["completed"] = done
		}
		if !send(p) {
			return
		}
	}
	for _, s := range []string{"verifying sha256 digest", "writing manifest"} {
		if !send(map[string]string{"status": s}) {
			return
		}
	}
	o.AddModel(name)
	send(map[string]string{"status": "success"})
}

// digest is a stable, made-up blob digest for a model name.
func digest(name string) string {
	sum := sha256.Sum256([]byte(name))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// fakeSize is a stable, made-up size for a model name, a few GB.
func fakeSize(name string) int64 {
	sum := sha256.Sum256([]byte(name))
	return 1<<30 + int64(sum[0])<<24 + int64(sum[1])<<16
}
