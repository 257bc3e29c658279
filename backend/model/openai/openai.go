// Package openai is the backend.Provider for any server that speaks the
// OpenAI chat completions API: OpenAI itself, Ollama under /v1, vLLM,
// llama.cpp's server, LM Studio and the like.
package openai

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"factorydesk/backend"
	"factorydesk/backend/model/internal/callwatch"
)

// DefaultBaseURL is the API OpenAI serves.
const DefaultBaseURL = "https://api.openai.com/v1"

// Config configures a Provider. Zero fields take their defaults.
type Config struct {
	// BaseURL is the API root, ending in /v1 for most servers
	// (OPENAI_BASE_URL; default https://api.openai.com/v1).
	BaseURL string
	// APIKey is sent as "Authorization: Bearer" (OPENAI_API_KEY); empty
	// sends none, which local servers accept.
	APIKey string
	// HTTPClient makes the requests; nil means a plain client.
	HTTPClient *http.Client
	// StallTimeout fails a call when the server sends nothing for this
	// long (default 2m).
	StallTimeout time.Duration
	// CallTimeout bounds a whole call (default 30m).
	CallTimeout time.Duration
}

// Provider talks to one OpenAI-compatible server. It is safe for
// concurrent use.
type Provider struct {
	base  string
	key   string
	hc    *http.Client
	stall time.Duration
	total time.Duration
}

var _ backend.Provider = (*Provider)(nil)

// New returns a Provider for the server cfg names.
func New(cfg Config) *Provider {
	p := &Provider{base: strings.TrimRight(strings.TrimSpace(cfg.BaseURL), "/"), key: cfg.APIKey,
		hc: cfg.HTTPClient, stall: cfg.StallTimeout, total: cfg.CallTimeout}
	if p.base == "" {
		p.base = DefaultBaseURL
	}
	if p.hc == nil {
		p.hc = &http.Client{}
	}
	if p.stall <= 0 {
		p.stall = callwatch.DefaultStall
	}
	if p.total <= 0 {
		p.total = callwatch.DefaultCall
	}
	return p
}

// Name returns backend.ProviderOpenAI.
func (p *Provider) Name() string { return backend.ProviderOpenAI }

// URL returns the API's base URL.
func (p *Provider) URL() string { return p.base }

// server names the server in messages.
func (p *Provider) server() string { return "the OpenAI-compatible server at " + p.base }

// Options that pass through under the same name.
var sameName = []string{"temperature", "seed", "top_p", "stop", "presence_penalty", "frequency_penalty"}

// body builds the chat completions request body.
func body(req backend.ChatRequest) map[string]any {
	b := map[string]any{
		"model":          req.Model,
		"messages":       messages(req.Messages),
		"stream":         true,
		"stream_options": map[string]any{"include_usage": true},
	}
	if len(req.Tools) > 0 {
		b["tools"] = tools(req.Tools)
	}
	for _, k := range sameName {
		if v, ok := req.Options[k]; ok {
			b[k] = v
		}
	}
	if v, ok := req.Options["num_predict"]; ok {
		b["max_tokens"] = v
	}
	if v, ok := req.Options["max_tokens"]; ok {
		b["max_tokens"] = v
	}
	if len(req.Schema) > 0 {
		b["response_format"] = map[string]any{
			"type": "json_schema",
			"json_schema": map[string]any{
				"name":   "answer",
				"schema": req.Schema,
				"strict": true,
			},
		}
	}
	return b
}

// do sends a request under call and returns the response when its status
// is 2xx, an error otherwise. model names the model asked for, if any.
func (p *Provider) do(call *callwatch.Call, method, path string, in any, model string) (*http.Response, error) {
	var rd io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, backend.WrapError(backend.EINVALID, err, "model request cannot be encoded")
		}
		rd = bytes.NewReader(b)
	}
	hreq, err := http.NewRequestWithContext(call.Ctx, method, p.base+path, rd)
	if err != nil {
		return nil, backend.WrapError(backend.EINVALID, err, "bad OPENAI_BASE_URL %q", p.base)
	}
	hreq.Header.Set("Content-Type", "application/json")
	hreq.Header.Set("Accept", "application/json, text/event-stream")
	if p.key != "" {
		hreq.Header.Set("Authorization", "Bearer "+p.key)
	}
	resp, err := p.hc.Do(hreq)
	if err != nil {
		if ierr := call.Interrupted(p.server()); ierr != nil {
			return nil, ierr
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			return nil, backend.WrapError(backend.EUNAVAILABLE, err,
				"%s is not reachable (is it running? set OPENAI_BASE_URL to its address, e.g. http://127.0.0.1:11434/v1)", p.server())
		}
		return nil, backend.WrapError(backend.EUNAVAILABLE, err, "%s failed", p.server())
	}
	resp.Body = call.Body(resp.Body)
	if resp.StatusCode/100 == 2 {
		return resp, nil
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return nil, p.statusError(resp.StatusCode, raw, path, model)
}

// apiError is OpenAI's error body.
type apiError struct {
	Error struct {
		Message string `json:"message"`
		Type    string `json:"type"`
		Code    any    `json:"code"`
	} `json:"error"`
}

// errorText gets the server's message from an error body.
func errorText(raw []byte) (msg, code string) {
	var e apiError
	if json.Unmarshal(raw, &e) == nil && e.Error.Message != "" {
		if e.Error.Code != nil {
			code = fmt.Sprint(e.Error.Code)
		}
		return e.Error.Message, code
	}
	// Some servers answer {"error": "text"}.
	var s struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(raw, &s) == nil && s.Error != "" {
		return s.Error, ""
	}
	return strings.TrimSpace(string(raw)), ""
}

// statusError maps an HTTP error answer.
func (p *Provider) statusError(status int, raw []byte, path, model string) *backend.Error {
	msg, code := errorText(raw)
	if msg == "" {
		msg = http.StatusText(status)
	}
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return backend.Errorf(backend.EUNAVAILABLE,
			"%s refused the API key (%d %s: %s); set OPENAI_API_KEY to a valid key",
			p.server(), status, http.StatusText(status), msg)
	case status == http.StatusNotFound && model != "" &&
		(code == "model_not_found" || strings.Contains(msg, model) || strings.Contains(strings.ToLower(msg), "model")):
		return backend.Errorf(backend.ENOTFOUND, "model %q not found at %s: %s", model, p.base, msg)
	case status == http.StatusNotFound:
		return backend.Errorf(backend.ENOTFOUND,
			"%s has no %s (404: %s); check OPENAI_BASE_URL, which usually ends in /v1", p.server(), path, msg)
	case status == http.StatusTooManyRequests:
		return backend.Errorf(backend.EUNAVAILABLE, "%s is rate limiting or out of quota (429: %s); wait and retry", p.server(), msg)
	case (status == http.StatusBadRequest || status == http.StatusUnprocessableEntity) && noTools(msg):
		return backend.WrapError(backend.EINVALID, backend.ErrToolsUnsupported,
			"%s: model %q cannot call tools (%s)", p.server(), model, msg)
	case status == http.StatusBadRequest || status == http.StatusUnprocessableEntity:
		return backend.Errorf(backend.EINVALID, "%s rejected the request (%d %s: %s)", p.server(), status, http.StatusText(status), msg)
	case status >= 500:
		return backend.WrapError(backend.EUNAVAILABLE, backend.ErrServerFailure,
			"%s answered %d %s: %s", p.server(), status, http.StatusText(status), msg)
	}
	return backend.Errorf(backend.EINTERNAL, "%s answered %d %s: %s", p.server(), status, http.StatusText(status), msg)
}

// List returns the models the server offers (GET {base}/models).
func (p *Provider) List(ctx context.Context) ([]backend.ModelInfo, error) {
	call := callwatch.Begin(ctx, p.stall, p.stall)
	defer call.End()
	resp, err := p.do(call, http.MethodGet, "/models", nil, "")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var out struct {
		Data []struct {
			ID      string `json:"id"`
			Created int64  `json:"created"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		if ierr := call.Interrupted(p.server()); ierr != nil {
			return nil, ierr
		}
		return nil, backend.WrapError(backend.EINTERNAL, err,
			"%s sent a model list that is not the expected JSON (is OPENAI_BASE_URL right?)", p.server())
	}
	models := make([]backend.ModelInfo, 0, len(out.Data))
	for _, m := range out.Data {
		info := backend.ModelInfo{Provider: backend.ProviderOpenAI, Name: m.ID}
		if m.Created > 0 {
			info.Modified = time.Unix(m.Created, 0).UTC()
		}
		models = append(models, info)
	}
	return models, nil
}
