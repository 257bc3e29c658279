package modeltest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// DefaultOpenAIModel is the model the OpenAI test server offers from the start.
const DefaultOpenAIModel = "gpt-4o-mini"

// OpenAI is a test server speaking the OpenAI chat completions API under
// /v1: POST /v1/chat/completions (server-sent events or one JSON answer)
// and GET /v1/models. Its chat answers are scripted (see Reply).
type OpenAI struct {
	script
	*httpServer

	mu     sync.Mutex
	models map[string]time.Time
	key    string
}

// NewOpenAI starts an OpenAI-compatible test server on a free 127.0.0.1 port
// for the length of the test. It offers DefaultOpenAIModel and accepts any
// API key until RequireKey is called.
func NewOpenAI(t testing.TB) *OpenAI {
	t.Helper()
	o := newOpenAI()
	mustStart(t, o.httpServer, o.handler())
	return o
}

// NewOpenAIServer starts an OpenAI-compatible test server on addr outside a
// test. Stop it with Close.
func NewOpenAIServer(addr string) (*OpenAI, error) {
	o := newOpenAI()
	if err := o.start(addr, o.handler()); err != nil {
		return nil, err
	}
	return o, nil
}

func newOpenAI() *OpenAI {
	o := &OpenAI{httpServer: newHTTPServer(), models: map[string]time.Time{}}
	o.AddModel(DefaultOpenAIModel)
	return o
}

// BaseURL returns the API's base URL, the server's URL with "/v1".
func (o *OpenAI) BaseURL() string { return o.URL() + "/v1" }

// AddModel makes the server offer a model.
func (o *OpenAI) AddModel(name string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.models[name] = time.Now().UTC().Truncate(time.Second)
}

// SetModels replaces the models the server offers.
func (o *OpenAI) SetModels(names ...string) {
	o.mu.Lock()
	o.models = map[string]time.Time{}
	o.mu.Unlock()
	for _, n := range names {
		o.AddModel(n)
	}
}

// Models returns the names of the models the server offers, sorted.
func (o *OpenAI) Models() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	names := make([]string, 0, len(o.models))
	for n := range o.models {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// RequireKey makes every request need "Authorization: Bearer key".
func (o *OpenAI) RequireKey(key string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.key = key
}

func (o *OpenAI) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/models", o.authorized(o.list))
	mux.HandleFunc("POST /v1/chat/completions", o.authorized(o.chat))
	return mux
}

// openAIError writes an error in OpenAI's shape.
func openAIError(w http.ResponseWriter, status int, msg, typ, code string) {
	if typ == "" {
		typ = "invalid_request_error"
		if status >= 500 {
			typ = "server_error"
		}
	}
	writeV1JSON(w, status, v1ErrorBody(msg, typ, code))
}

// v1Error is an error in OpenAI's shape, its fields in OpenAI's order.
type v1Error struct {
	Error v1ErrorDetail `json:"error"`
}

type v1ErrorDetail struct {
	Message string `json:"message"`
	Type    string `json:"type"`
	Param   any    `json:"param"` // always null here
	Code    any    `json:"code"`  // a string, or null
}

// v1ErrorBody is an error in OpenAI's shape; an empty code is null.
func v1ErrorBody(msg, typ, code string) v1Error {
	var c any
	if code != "" {
		c = code
	}
	return v1Error{v1ErrorDetail{Message: msg, Type: typ, Code: c}}
}

func (o *OpenAI) authorized(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		o.mu.Lock()
		key := o.key
		o.mu.Unlock()
		if key == "" {
			h(w, r)
			return
		}
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		switch {
		case !ok || got == "":
			openAIError(w, http.StatusUnauthorized, "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).", "", "")
		case got != key:
			openAIError(w, http.StatusUnauthorized, "Incorrect API key provided: "+mask(got)+".", "", "invalid_api_key")
		default:
			h(w, r)
		}
	}
}

// mask hides all but the ends of a key, as OpenAI does in its messages.
func mask(key string) string {
	if len(key) <= 8 {
		return "****"
	}
	return key[:3] + "*****" + key[len(key)-4:]
}

func (o *OpenAI) list(w http.ResponseWriter, _ *http.Request) {
	type model struct {
		ID      string `json:"id"`
		Object  string `json:"object"`
		Created int64  `json:"created"`
		OwnedBy string `json:"owned_by"`
	}
	out := struct {
		Object string  `json:"object"`
		Data   []model `json:"data"`
	}{Object: "list", Data: []model{}}
	o.mu.Lock()
	for name, created := range o.models {
		out.Data = append(out.Data, model{ID: name, Object: "model", Created: created.Unix(), OwnedBy: "system"})
	}
	o.mu.Unlock()
	sort.Slice(out.Data, func(i, j int) bool { return out.Data[i].ID < out.Data[j].ID })
	writeV1JSON(w, http.StatusOK, out)
}

// openAIChatRequest is the part of a chat completions body the server reads.
type openAIChatRequest struct {
	Model         string      `json:"model"`
	Messages      []v1Message `json:"messages"`
	Tools         []v1Tool    `json:"tools"`
	Stream        bool        `json:"stream"`
	StreamOptions *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
	ResponseFormat *struct {
		Type       string `json:"type"`
		JSONSchema *struct {
			Schema json.RawMessage `json:"schema"`
		} `json:"json_schema"`
	} `json:"response_format"`
}

// samplingFields are the body fields Request.Options records.
var samplingFields = []string{"temperature", "seed", "top_p", "max_tokens", "max_completion_tokens",
	"stop", "presence_penalty", "frequency_penalty", "n"}

func (o *OpenAI) chat(w http.ResponseWriter, r *http.Request) {
	in, req, ok := decodeV1Chat(w, r, flavorOpenAI)
	if !ok {
		return
	}
	o.mu.Lock()
	_, known := o.models[in.Model]
	o.mu.Unlock()
	if !known {
		o.record(req)
		openAIError(w, http.StatusNotFound, fmt.Sprintf("The model `%s` does not exist or you do not have access to it.", in.Model), "", "model_not_found")
		return
	}
	reply := o.next(req)
	if reply.Status != 0 {
		openAIError(w, reply.Status, reply.errorText(), "", "")
		return
	}
	answerV1(w, r, in, req, reply, flavorOpenAI, o.done)
}

// v1Flavor is whose OpenAI-compatible endpoint a server imitates.
type v1Flavor int

const (
	flavorOpenAI v1Flavor = iota // OpenAI's own API
	flavorOllama                 // Ollama's /v1 endpoints
)

// decodeV1Chat reads a chat completions body; on an error it has answered
// and returns false.
func decodeV1Chat(w http.ResponseWriter, r *http.Request, flavor v1Flavor) (openAIChatRequest, Request, bool) {
	var body json.RawMessage
	var in openAIChatRequest
	var fields map[string]any
	err := json.NewDecoder(r.Body).Decode(&body)
	if err == nil && flavor == flavorOllama {
		err = checkOllamaV1(body)
	}
	if err == nil {
		err = json.Unmarshal(body, &in)
	}
	if err == nil {
		err = json.Unmarshal(body, &fields)
	}
	if err != nil {
		if flavor == flavorOllama {
			// Ollama's /v1 layer refuses it before its chat handler sees it.
			writeJSON(w, http.StatusBadRequest, v1ErrorBody(err.Error(), "invalid_request_error", ""))
			return in, Request{}, false
		}
		openAIError(w, http.StatusBadRequest, "We could not parse the JSON body of your request: "+err.Error(), "", "")
		return in, Request{}, false
	}
	if in.Model == "" {
		if flavor == flavorOllama {
			writeV1JSON(w, http.StatusBadRequest, v1ErrorBody("model is required", "api_error", ""))
			return in, Request{}, false
		}
		openAIError(w, http.StatusBadRequest, "you must provide a model parameter", "", "")
		return in, Request{}, false
	}
	req := Request{Model: in.Model, Stream: in.Stream, Body: body}
	req.Messages, req.Tools = fromV1(in.Messages, in.Tools)
	if rf := in.ResponseFormat; rf != nil && rf.JSONSchema != nil {
		req.Format = rf.JSONSchema.Schema
	}
	for _, k := range samplingFields {
		if v, ok := fields[k]; ok {
			if req.Options == nil {
				req.Options = map[string]any{}
			}
			req.Options[k] = v
		}
	}
	return in, req, true
}

// answerV1 answers a chat completions call with its scripted reply.
func answerV1(w http.ResponseWriter, r *http.Request, in openAIChatRequest, req Request, reply Reply, flavor v1Flavor, done <-chan struct{}) {
	usage := in.StreamOptions != nil && in.StreamOptions.IncludeUsage
	c := completion{flavor: flavor, done: done, w: w, r: r, req: req, reply: reply, start: time.Now(), usage: usage}
	if !req.Stream {
		c.whole()
		return
	}
	c.stream()
}
