package app

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"factorydesk/backend"
	"factorydesk/backend/blueprint"
)

// maxBody bounds the body of one API request: room for the editor's draft
// of the largest blueprint file, JSON-escaped, with its edits.
const maxBody = 4 * blueprint.MaxFileBytes

// ServerConfig configures browser mode.
type ServerConfig struct {
	Token  string // required on every request when set
	Static fs.FS  // the built frontend (index.html at its root); nil serves no pages
	Logger *slog.Logger
	// Addr is the address the server listens on (host:port). Without a
	// token only requests naming it (or localhost, 127.0.0.1, [::1]) with
	// its port in their Host header are served: a page on another name that
	// resolves to loopback (DNS rebinding) is refused. Serve sets it from
	// its listener.
	Addr string
	// MaxEventClients bounds the event streams open at once; 0 means
	// DefaultMaxEventClients.
	MaxEventClients int
}

// Server is browser mode: the App's methods as JSON over HTTP
// (POST /api/METHOD with a JSON array of arguments), events over SSE
// (GET /api/events) and the frontend's files.
type Server struct {
	app   *App
	disp  *dispatcher
	cfg   ServerConfig
	hub   *hub
	mux   *http.ServeMux
	close func()
}

// NewServer serves a. It subscribes to a's events until Close.
func NewServer(a *App, cfg ServerConfig) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.MaxEventClients <= 0 {
		cfg.MaxEventClients = DefaultMaxEventClients
	}
	s := &Server{app: a, disp: newDispatcher(a), cfg: cfg, hub: newHub(cfg.MaxEventClients), mux: http.NewServeMux()}
	s.close = a.subscribe(s.hub.Emit)
	s.mux.HandleFunc("POST /api/{method}", s.guard(s.handleCall))
	s.mux.HandleFunc("GET /api/events", s.guard(s.handleEvents))
	if cfg.Static != nil {
		s.mux.Handle("GET /", s.guard(http.FileServerFS(cfg.Static).ServeHTTP))
	}
	return s
}

// Handler returns the server's HTTP handler: every response refuses to be
// framed, and a tokenless server answers only requests for its own host.
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		setSecurityHeaders(w.Header())
		if s.cfg.Token == "" && !loopbackHost(r.Host, s.cfg.Addr) {
			writeError(w, http.StatusForbidden, backend.Errorf(backend.EINVALID,
				"requests for host %q are refused: without a token this server answers only localhost, 127.0.0.1 and [::1]", r.Host))
			return
		}
		s.mux.ServeHTTP(w, r)
	})
}

// Close stops the event stream of every client.
func (s *Server) Close() {
	s.close()
	s.hub.Close()
}

// NewToken returns a random token for a server bound beyond loopback.
func NewToken() string {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return hex.EncodeToString(b)
}

// IsLoopback reports whether addr (host:port) binds only to loopback.
func IsLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// guard checks the token, the Origin (same host only) and, for requests
// that change state, the CSRF header, before calling next.
func (s *Server) guard(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if origin := r.Header.Get("Origin"); origin != "" && !sameHost(origin, r.Host) {
			writeError(w, http.StatusForbidden, backend.Errorf(backend.EINVALID, "cross-site request from %s refused", origin))
			return
		}
		if s.cfg.Token != "" && !s.authorized(w, r) {
			writeError(w, http.StatusUnauthorized, backend.Errorf(backend.EINVALID, "a token is required: open the URL printed by factory serve"))
			return
		}
		if r.Method == http.MethodPost && r.Header.Get("X-Factory-Request") != "1" {
			writeError(w, http.StatusForbidden, backend.Errorf(backend.EINVALID, "missing X-Factory-Request header"))
			return
		}
		next(w, r)
	}
}

// authorized accepts the token as a bearer header, a ?token= parameter or
// the cookie set when a page was opened with ?token=.
func (s *Server) authorized(w http.ResponseWriter, r *http.Request) bool {
	got := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	if got == "" {
		got = r.URL.Query().Get("token")
	}
	if got == "" {
		if c, err := r.Cookie("factory_token"); err == nil {
			got = c.Value
		}
	}
	if subtle.ConstantTimeCompare([]byte(got), []byte(s.cfg.Token)) != 1 {
		return false
	}
	if r.URL.Query().Get("token") != "" {
		http.SetCookie(w, &http.Cookie{Name: "factory_token", Value: got, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
	}
	return true
}

func sameHost(origin, host string) bool {
	u, err := url.Parse(origin)
	return err == nil && u.Host == host
}

func (s *Server) handleCall(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, backend.Errorf(backend.EINVALID, "request body over %d bytes", maxBody))
		return
	}
	res, err := s.disp.Call(r.Context(), r.PathValue("method"), body)
	if err != nil {
		writeError(w, statusOf(err), err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewEncoder(w).Encode(res); err != nil {
		s.cfg.Logger.Warn("writing a response", "method", r.PathValue("method"), "err", err)
	}
}

func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		writeError(w, http.StatusInternalServerError, backend.Errorf(backend.EINTERNAL, "streaming unsupported"))
		return
	}
	ch, cancel, ok := s.hub.subscribe()
	if !ok {
		writeError(w, http.StatusServiceUnavailable, backend.Errorf(backend.EUNAVAILABLE,
			"too many event streams open (the limit is %d): close another tab of the app", s.cfg.MaxEventClients))
		return
	}
	defer cancel()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no")
	fmt.Fprint(w, ": connected\n\n")
	flusher.Flush()
	ping := time.NewTicker(15 * time.Second)
	defer ping.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-ping.C:
			fmt.Fprint(w, ": ping\n\n")
		case batch, ok := <-ch:
			if !ok {
				return
			}
			data, err := json.Marshal(batch)
			if err != nil {
				return
			}
			fmt.Fprintf(w, "data: %s\n\n", data)
		}
		flusher.Flush()
	}
}

// statusOf maps an error code to an HTTP status.
func statusOf(err error) int {
	switch backend.ErrorCode(err) {
	case backend.EINVALID:
		return http.StatusBadRequest
	case backend.ENOTFOUND:
		return http.StatusNotFound
	case backend.ECONFLICT:
		return http.StatusConflict
	case backend.EUNAVAILABLE:
		return http.StatusBadGateway
	case backend.ECANCELED:
		return 499
	}
	return http.StatusInternalServerError
}

// apiError is the JSON body of a failed call, in browser mode and (as the
// value a bound method's promise rejects with) in the desktop window.
type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		// Diagnostics are the problems an edit was refused for, each at its
		// line, column, step and field.
		Diagnostics backend.Diagnostics `json:"diagnostics,omitempty"`
	} `json:"error"`
}

// errorAnswer is the answer to a call that failed with err.
func errorAnswer(err error) apiError {
	var body apiError
	body.Error.Code = backend.ErrorCode(err)
	body.Error.Message = err.Error()
	var diags backend.Diagnostics
	if errors.As(err, &diags) {
		body.Error.Diagnostics = diags
	}
	return body
}

func writeError(w http.ResponseWriter, status int, err error) {
	body := errorAnswer(err)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// hub fans event batches out to SSE clients. A client that cannot keep up
// loses batches rather than slowing the run down.
type hub struct {
	mu     sync.Mutex
	subs   map[chan []Event]struct{}
	max    int // subscriptions at once
	closed bool
}

func newHub(max int) *hub { return &hub{subs: map[chan []Event]struct{}{}, max: max} }

// Emit implements Emitter.
func (h *hub) Emit(batch []Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs {
		select {
		case ch <- batch:
		default: // slow client: drop this batch
		}
	}
}

// subscribe adds a subscription; ok is false when max are open already.
func (h *hub) subscribe() (<-chan []Event, func(), bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.subs) >= h.max {
		return nil, nil, false
	}
	ch := make(chan []Event, 256)
	if h.closed {
		close(ch)
		return ch, func() {}, true
	}
	h.subs[ch] = struct{}{}
	return ch, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		if _, ok := h.subs[ch]; ok {
			delete(h.subs, ch)
			close(ch)
		}
	}, true
}

// Close ends every subscription.
func (h *hub) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for ch := range h.subs {
		delete(h.subs, ch)
		close(ch)
	}
}

// Serve runs browser mode for the workspace of cfg on ln until ctx is done,
// then stops the App's runs.
func Serve(ctx context.Context, cfg Config, ln net.Listener, scfg ServerConfig) error {
	a, err := New(cfg)
	if err != nil {
		return err
	}
	defer a.shutdown()
	if scfg.Addr == "" {
		scfg.Addr = ln.Addr().String()
	}
	s := NewServer(a, scfg)
	defer s.Close()
	return listenAndServe(ctx, ln, s.Handler())
}

// listenAndServe serves handler on ln until ctx is done.
func listenAndServe(ctx context.Context, ln net.Listener, handler http.Handler) error {
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		err := srv.Shutdown(sctx)
		if errors.Is(err, context.DeadlineExceeded) {
			err = srv.Close()
		}
		return err
	}
}
