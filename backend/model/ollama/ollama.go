// Package ollama is the backend.Provider for an Ollama server, built on
// Ollama's own Go client (github.com/ollama/ollama/api).
package ollama

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ollama/ollama/api"

	"factorydesk/backend"
	"factorydesk/backend/model/internal/callwatch"
)

// Config configures a Provider. Zero fields take their defaults.
type Config struct {
	// Host is the server, with OLLAMA_HOST's syntax: "http://host:port",
	// "host:port", "host" or ":port". Empty means http://127.0.0.1:11434.
	Host string
	// HTTPClient makes the requests; nil means a plain client. Its
	// Timeout, if any, bounds every call, streams included.
	HTTPClient *http.Client
	// StallTimeout fails a call when the server sends nothing for this
	// long (default 2m).
	StallTimeout time.Duration
	// CallTimeout bounds a whole chat call (default 30m). Pulls are bounded
	// by the stall timeout only.
	CallTimeout time.Duration
}

// Provider talks to one Ollama server. It is safe for concurrent use.
type Provider struct {
	base   *url.URL
	client *api.Client
	stall  time.Duration
	total  time.Duration
}

var (
	_ backend.Provider = (*Provider)(nil)
	_ backend.Puller   = (*Provider)(nil)
)

// New returns a Provider for the server cfg names.
func New(cfg Config) *Provider {
	p := &Provider{base: ParseHost(cfg.Host), stall: cfg.StallTimeout, total: cfg.CallTimeout}
	if p.stall <= 0 {
		p.stall = callwatch.DefaultStall
	}
	if p.total <= 0 {
		p.total = callwatch.DefaultCall
	}
	p.client = api.NewClient(p.base, callwatch.Client(cfg.HTTPClient))
	return p
}

// ParseHost reads a host the way Ollama reads OLLAMA_HOST: a missing scheme
// is http, a missing host is 127.0.0.1, and a missing port is 11434 (80 or
// 443 when the scheme is given explicitly).
func ParseHost(s string) *url.URL {
	defaultPort := "11434"
	s = strings.Trim(strings.TrimSpace(s), "\"'")
	scheme, hostport, ok := strings.Cut(s, "://")
	switch {
	case !ok:
		scheme, hostport = "http", s
		if s == "ollama.com" {
			scheme, hostport = "https", "ollama.com:443"
		}
	case scheme == "http":
		defaultPort = "80"
	case scheme == "https":
		defaultPort = "443"
	}
	hostport, path, _ := strings.Cut(hostport, "/")
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		host, port = "127.0.0.1", defaultPort
		if ip := net.ParseIP(strings.Trim(hostport, "[]")); ip != nil {
			host = ip.String()
		} else if hostport != "" {
			host = hostport
		}
	}
	if host == "" {
		host = "127.0.0.1"
	}
	if n, err := strconv.ParseInt(port, 10, 32); err != nil || n > 65535 || n < 0 {
		port = defaultPort
	}
	return &url.URL{Scheme: scheme, Host: net.JoinHostPort(host, port), Path: path}
}

// Name returns backend.ProviderOllama.
func (p *Provider) Name() string { return backend.ProviderOllama }

// URL returns the server's base URL.
func (p *Provider) URL() string { return p.base.String() }

// server names the server in messages.
func (p *Provider) server() string { return "ollama at " + p.base.String() }

// Chat streams one answer. onToken, when not nil, gets each piece of it.
func (p *Provider) Chat(ctx context.Context, req backend.ChatRequest, onToken func(string)) (backend.ChatResponse, error) {
	start := time.Now()
	call := callwatch.Begin(ctx, p.stall, p.total)
	defer call.End()

	tools, err := apiTools(req.Tools)
	if err != nil {
		return backend.ChatResponse{}, err
	}
	stream := true
	areq := &api.ChatRequest{
		Model:    req.Model,
		Messages: apiMessages(req.Messages),
		Stream:   &stream,
		Format:   req.Schema,
		Options:  ollamaOptions(req.Options),
		Tools:    tools,
	}

	var (
		out     backend.ChatResponse
		content strings.Builder
		done    bool
		limit   = callwatch.NewAnswerLimit(req.MaxAnswerBytes)
	)
	err = p.client.Chat(call.Ctx, areq, func(r api.ChatResponse) error {
		calls := toolCalls(r.Message.ToolCalls)
		if err := limit.Add(len(r.Message.Content)+toolCallBytes(calls), p.server()); err != nil {
			return err
		}
		out.ToolCalls = append(out.ToolCalls, calls...)
		if piece := r.Message.Content; piece != "" {
			if content.Len() == 0 {
				out.FirstToken = time.Since(start)
			}
			content.WriteString(piece)
			if onToken != nil {
				onToken(piece)
			}
		}
		if r.Model != "" {
			out.Model = r.Model
		}
		if r.Done {
			done = true
			out.DoneReason = r.DoneReason
			out.InputTokens = r.PromptEvalCount
			out.OutputTokens = r.EvalCount
		}
		return nil
	})
	out.Content = content.String()
	out.Duration = time.Since(start)
	if err == nil && done {
		return out, nil
	}
	var over *backend.Error
	if errors.As(err, &over) && over.Code == backend.EINVALID && call.Interrupted(p.server()) == nil {
		return out, err // the answer's limit
	}
	return out, p.chatError(call, req.Model, content.Len(), err)
}

// toolCallBytes is what tool calls add to an answer's size.
func toolCallBytes(calls []backend.ToolCall) int {
	n := 0
	for _, c := range calls {
		n += len(c.ID) + len(c.Name) + len(c.Arguments)
	}
	return n
}

// chatError explains why a chat call ended without its final message.
func (p *Provider) chatError(call *callwatch.Call, model string, received int, err error) error {
	if ierr := call.Interrupted(p.server()); ierr != nil {
		return ierr
	}
	if err == nil || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return callwatch.Cut(p.server(), received, err)
	}
	if e := p.requestError(err, model); e != nil {
		return e
	}
	return backend.WrapError(backend.EINTERNAL, err,
		"%s broke off the answer (%d bytes received)", p.server(), received)
}

// requestError maps the errors of a request that got no usable answer:
// HTTP errors and unreachable servers. It returns nil for anything else.
func (p *Provider) requestError(err error, model string) *backend.Error {
	var se api.StatusError
	if errors.As(err, &se) {
		return p.statusError(se.StatusCode, se.ErrorMessage, model)
	}
	var ae api.AuthorizationError
	if errors.As(err, &ae) {
		return backend.WrapError(backend.EUNAVAILABLE, err,
			"%s refused the request (%d): check OLLAMA_HOST points at your own server", p.server(), ae.StatusCode)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return backend.WrapError(backend.EUNAVAILABLE, err,
			`%s is not reachable (is it running? start it with "ollama serve", or set OLLAMA_HOST)`, p.server())
	}
	return nil
}

// statusError maps an HTTP error status and the server's message.
func (p *Provider) statusError(status int, msg, model string) *backend.Error {
	if msg == "" {
		msg = http.StatusText(status)
	}
	switch {
	case status == http.StatusNotFound && model != "":
		return backend.Errorf(backend.ENOTFOUND,
			"model %q not found; pull it with: ollama pull %s (%s said: %s)", model, model, p.server(), msg)
	case status == http.StatusBadRequest && noTools(msg):
		return backend.WrapError(backend.EINVALID, backend.ErrToolsUnsupported,
			"%s: model %q cannot call tools (%s)", p.server(), model, msg)
	case status == http.StatusBadRequest:
		return backend.Errorf(backend.EINVALID, "%s rejected the request (400 Bad Request): %s", p.server(), msg)
	case status >= 500:
		return backend.WrapError(backend.EUNAVAILABLE, backend.ErrServerFailure,
			"%s answered %d %s: %s", p.server(), status, http.StatusText(status), msg)
	}
	return backend.Errorf(backend.EINTERNAL, "%s answered %d %s: %s", p.server(), status, http.StatusText(status), msg)
}

// List returns the models the server has.
func (p *Provider) List(ctx context.Context) ([]backend.ModelInfo, error) {
	call := callwatch.Begin(ctx, p.stall, p.stall)
	defer call.End()
	resp, err := p.client.List(call.Ctx)
	if err != nil {
		return nil, p.plainError(call, "", err)
	}
	out := make([]backend.ModelInfo, 0, len(resp.Models))
	for _, m := range resp.Models {
		out = append(out, backend.ModelInfo{
			Provider: backend.ProviderOllama,
			Name:     m.Name,
			Size:     m.Size,
			Modified: m.ModifiedAt,
			Family:   m.Details.Family,
			Params:   m.Details.ParameterSize,
		})
	}
	return out, nil
}

// plainError maps the error of a request that is not a chat.
func (p *Provider) plainError(call *callwatch.Call, model string, err error) error {
	if ierr := call.Interrupted(p.server()); ierr != nil {
		return ierr
	}
	if e := p.requestError(err, model); e != nil {
		return e
	}
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return backend.WrapError(backend.EINTERNAL, err, "%s sent an answer that is not JSON (is OLLAMA_HOST an Ollama server?)", p.server())
	}
	return backend.WrapError(backend.EINTERNAL, err, "%s failed", p.server())
}

// Pull downloads a model into the server, reporting progress as it goes.
func (p *Provider) Pull(ctx context.Context, model string, progress func(backend.PullProgress)) error {
	call := callwatch.Begin(ctx, p.stall, 0)
	defer call.End()
	var last string
	err := p.client.Pull(call.Ctx, &api.PullRequest{Model: model}, func(r api.ProgressResponse) error {
		last = r.Status
		if progress != nil {
			progress(backend.PullProgress{Status: r.Status, Total: r.Total, Completed: r.Completed})
		}
		return nil
	})
	if err == nil && last != "success" {
		err = io.ErrUnexpectedEOF
	}
	if err == nil {
		return nil
	}
	if ierr := call.Interrupted(p.server()); ierr != nil {
		return ierr
	}
	if e := p.requestError(err, ""); e != nil {
		return e
	}
	msg := err.Error()
	if registryUnreachable(msg) {
		return backend.WrapError(backend.EUNAVAILABLE, err,
			"%s cannot reach its model registry to pull %q (offline? pull it where there is network, or copy the model into the server's OLLAMA_MODELS)",
			p.server(), model)
	}
	if strings.Contains(msg, "file does not exist") || strings.Contains(msg, "not found") {
		return backend.WrapError(backend.ENOTFOUND, err,
			"model %q not found in the registry (check the name and tag, e.g. qwen2.5-coder:7b)", model)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return backend.WrapError(backend.EINTERNAL, err, "pull of %q from %s ended before it finished", model, p.server())
	}
	return backend.WrapError(backend.EINTERNAL, err, "pull of %q failed at %s", model, p.server())
}

// registryUnreachable reports whether a pull's error says the server could
// not connect to its registry at all (no network, no DNS, a proxy that is
// down), rather than that the registry refused the name.
func registryUnreachable(msg string) bool {
	for _, s := range []string{"no such host", "dial tcp", "proxyconnect", "connection refused",
		"network is unreachable", "i/o timeout", "TLS handshake timeout", "no route to host"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// Delete removes a model from the server.
func (p *Provider) Delete(ctx context.Context, model string) error {
	call := callwatch.Begin(ctx, p.stall, p.stall)
	defer call.End()
	err := p.client.Delete(call.Ctx, &api.DeleteRequest{Model: model})
	if err == nil {
		return nil
	}
	var se api.StatusError
	if errors.As(err, &se) && se.StatusCode == http.StatusNotFound {
		return backend.Errorf(backend.ENOTFOUND, "model %q not found at %s, nothing to delete", model, p.server())
	}
	return p.plainError(call, model, err)
}
