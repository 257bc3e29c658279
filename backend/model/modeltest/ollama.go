package modeltest

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ollama/ollama/api"
	"github.com/ollama/ollama/types/model"

	"factorydesk/backend"
)

// OllamaVersion is the version the Ollama test server reports.
const OllamaVersion = "0.17.4"

// Ollama is a test server speaking Ollama's HTTP API: /api/chat (streamed
// NDJSON or one JSON answer), /api/tags, /api/show, /api/pull, /api/delete,
// /api/version and /, and Ollama's OpenAI-compatible /v1/chat/completions,
// /v1/models and /v1/models/{model}. Its chat answers, on either path, are
// scripted (see Reply). It answers as Ollama 0.17.4 does, down to content
// types, field order, error texts (a missing body, a field of the wrong
// type, a bad model name, unknown paths and methods) and the types it
// checks in "options" and "format". A chat with no messages only "loads"
// the model (done_reason "load", or "unload" with keep_alive 0) and uses
// no scripted reply. Its URL plus "/v1" is a base URL for the openai
// provider.
type Ollama struct {
	script
	*httpServer

	mu        sync.Mutex
	models    map[string]modelEntry // by full name, e.g. "llama3.2:latest"
	registry  map[string]bool       // models /api/pull can fetch
	pullDelay time.Duration
	offline   bool // the registry cannot be reached: every pull fails
}

type modelEntry struct {
	name     string
	size     int64
	modified time.Time
	noTools  bool // its template cannot call tools
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
	o.models[name] = modelEntry{name: name, size: fakeSize(name), modified: time.Now().UTC()}
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

// SetOffline makes the server unable to reach its model registry, like an
// Ollama on a machine without network: every pull fails with the error
// Ollama gives then (pull model manifest: Get "https://registry.ollama.ai/
// ...": dial tcp: lookup registry.ollama.ai ...: no such host).
func (o *Ollama) SetOffline(offline bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.offline = offline
}

// SetPullDelay sets a pause between pull progress reports.
func (o *Ollama) SetPullDelay(d time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.pullDelay = d
}

// WithoutTools makes models the server has unable to call tools, like a
// model whose template has no tools: a chat offering tools to one is
// refused as Ollama refuses it ("... does not support tools").
func (o *Ollama) WithoutTools(names ...string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, n := range names {
		if m, ok := o.models[normalizeName(n)]; ok {
			m.noTools = true
			o.models[m.name] = m
		}
	}
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
	mux.HandleFunc("GET /v1/models", o.v1Models)
	mux.HandleFunc("GET /v1/models/{model}", o.v1Model)
	mux.HandleFunc("POST /v1/chat/completions", o.v1Chat)
	return ginRouter(mux)
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
			Size: m.size, Digest: strings.TrimPrefix(digest(m.name), "sha256:"), Details: m.details()})
	}
	writeJSON(w, http.StatusOK, out)
}

// nameRequest is the part of the body of /api/show, /api/pull and
// /api/delete that names the model.
type nameRequest struct {
	Model string `json:"model"`
	Name  string `json:"name"` // the older spelling
}

// decodeName reads the body of /api/show, /api/pull or /api/delete into
// typed, the api type Ollama reads it into (so a field of the wrong type is
// refused in the same words), and returns the model it names: "model", or
// else "name". On an error it has answered and returns false.
func decodeName(w http.ResponseWriter, r *http.Request, typed any) (string, bool) {
	var body json.RawMessage
	var req nameRequest
	err := json.NewDecoder(r.Body).Decode(&body)
	if err == nil {
		err = json.Unmarshal(body, typed)
	}
	if err == nil {
		err = json.Unmarshal(body, &req)
	}
	if err != nil {
		badBody(w, err)
		return "", false
	}
	return cmp.Or(req.Model, req.Name), true
}

// badBody answers a request body Ollama cannot read: "missing request
// body" when there is none, else the decoder's error.
func badBody(w http.ResponseWriter, err error) {
	msg := err.Error()
	if errors.Is(err, io.EOF) {
		msg = "missing request body"
	}
	writeJSON(w, http.StatusBadRequest, map[string]string{"error": msg})
}

// validName reports whether Ollama accepts name as a model name.
func validName(name string) bool { return model.ParseName(name).IsValid() }

func notFound(w http.ResponseWriter, name string) {
	writeJSON(w, http.StatusNotFound, map[string]string{"error": fmt.Sprintf("model '%s' not found", name)})
}

func (o *Ollama) show(w http.ResponseWriter, r *http.Request) {
	name, ok := decodeName(w, r, &api.ShowRequest{})
	if !ok {
		return
	}
	if name == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "model is required"})
		return
	}
	if !validName(name) {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": model.Unqualified(model.ParseName(name)).Error()})
		return
	}
	m, ok := o.model(name)
	if !ok {
		notFound(w, name)
		return
	}
	d := m.details()
	writeJSON(w, http.StatusOK, map[string]any{
		"modelfile":  "# Modelfile generated by \"ollama show\"\nFROM " + m.name + "\n",
		"parameters": "stop \"<|im_end|>\"",
		"template":   "{{ .Prompt }}",
		"details":    d,
		"model_info": map[string]any{
			"general.architecture":       d.Family,
			"general.parameter_count":    m.size * 2,
			d.Family + ".context_length": 32768,
		},
		"capabilities": m.capabilities(),
		"modified_at":  m.modified,
	})
}

func (o *Ollama) delete(w http.ResponseWriter, r *http.Request) {
	given, ok := decodeName(w, r, &api.DeleteRequest{})
	if !ok {
		return
	}
	if !validName(given) {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": fmt.Sprintf("name %q is invalid", given)})
		return
	}
	name := normalizeName(given)
	o.mu.Lock()
	_, found := o.models[name]
	delete(o.models, name)
	o.mu.Unlock()
	if !found {
		notFound(w, given)
		return
	}
	w.WriteHeader(http.StatusOK)
}

func (o *Ollama) pull(w http.ResponseWriter, r *http.Request) {
	var req api.PullRequest
	given, ok := decodeName(w, r, &req)
	if !ok {
		return
	}
	if !validName(given) {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid model name"})
		return
	}
	name := normalizeName(given)
	o.mu.Lock()
	known, delay, offline := o.registry[name], o.pullDelay, o.offline
	o.mu.Unlock()
	failure := "pull model manifest: file does not exist"
	if offline {
		known, failure = false, offlinePullError(name)
	}
	streamed := req.Stream == nil || *req.Stream
	if !streamed {
		if !known {
			// Ollama writes this error without a charset.
			writeJSONAs(w, "application/json", http.StatusInternalServerError, map[string]string{"error": failure})
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
		send(map[string]string{"error": failure})
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

// offlinePullError is Ollama's error for a pull when the registry's host
// name cannot be resolved.
func offlinePullError(name string) string {
	repo, tag, _ := strings.Cut(name, ":")
	host := "registry.ollama.ai"
	switch parts := strings.Split(repo, "/"); len(parts) {
	case 1:
		repo = "library/" + repo
	case 3:
		host, repo = parts[0], parts[1]+"/"+parts[2]
	}
	return fmt.Sprintf(`pull model manifest: Get "https://%s/v2/%s/manifests/%s": dial tcp: lookup %s on 127.0.0.53:53: no such host`,
		host, repo, tag, host)
}

// capabilities are what /api/show says the model can do.
func (m modelEntry) capabilities() []string {
	if m.noTools {
		return []string{"completion"}
	}
	return []string{"completion", "tools"}
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
