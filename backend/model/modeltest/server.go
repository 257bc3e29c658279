package modeltest

import (
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// httpServer is a real HTTP server on a loopback address.
type httpServer struct {
	srv       *http.Server
	url       string
	done      chan struct{} // closed by Close: ends held connections
	closeOnce sync.Once
	closeErr  error
	serveErr  chan error
	started   bool
}

// newHTTPServer returns a server that is not listening yet.
func newHTTPServer() *httpServer {
	return &httpServer{
		srv:      &http.Server{ReadHeaderTimeout: 10 * time.Second},
		done:     make(chan struct{}),
		serveErr: make(chan error, 1),
	}
}

// start serves h on addr, which should be a loopback address such as
// "127.0.0.1:0" (any free port) or "127.0.0.1:11435".
func (s *httpServer) start(addr string, h http.Handler) error {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	s.srv.Handler = h
	s.url = "http://" + ln.Addr().String()
	s.started = true
	go func() { s.serveErr <- s.srv.Serve(ln) }()
	return nil
}

// Close stops the server, ending every open connection, and waits for it.
func (s *httpServer) Close() error {
	s.closeOnce.Do(func() {
		close(s.done)
		if !s.started {
			return
		}
		s.closeErr = s.srv.Close()
		if err := <-s.serveErr; err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.closeErr = err
		}
	})
	return s.closeErr
}

// URL returns the server's base URL, e.g. "http://127.0.0.1:41234".
func (s *httpServer) URL() string { return s.url }

// mustStart starts s for a test on a free loopback port and closes it when
// the test ends.
func mustStart(t testing.TB, s *httpServer, h http.Handler) {
	t.Helper()
	if err := s.start("127.0.0.1:0", h); err != nil {
		t.Fatalf("model test server: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("model test server: close: %v", err)
		}
	})
}

// writeJSON answers with status and v as JSON, as Ollama's /api endpoints
// do: a charset in the content type, no newline after the object.
func writeJSON(w http.ResponseWriter, status int, v any) {
	writeJSONAs(w, "application/json; charset=utf-8", status, v)
}

// writeJSONAs answers with status and v as JSON with no newline after it.
func writeJSONAs(w http.ResponseWriter, contentType string, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // the test server only sends values that marshal
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_, _ = w.Write(b) // the client is gone if this fails
}

// writeV1JSON answers with status and v as JSON, as the OpenAI-compatible
// endpoints do: no charset, a newline after the object.
func writeV1JSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the client is gone if this fails
}

// streamer writes one streamed line or event at a time, flushed.
type streamer struct {
	w  http.ResponseWriter
	rc *http.ResponseController
}

func newStreamer(w http.ResponseWriter, contentType string) *streamer {
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(http.StatusOK)
	st := &streamer{w: w, rc: http.NewResponseController(w)}
	st.flush()
	return st
}

// write sends b and flushes it; false means the client is gone.
func (st *streamer) write(b []byte) bool {
	if _, err := st.w.Write(b); err != nil {
		return false
	}
	return st.flush()
}

func (st *streamer) flush() bool { return st.rc.Flush() == nil }

// abort closes the connection at once, with no proper end of the stream.
func abort() { panic(http.ErrAbortHandler) }

// hold keeps the connection open and silent until the client leaves or the
// server closes.
func hold(r *http.Request, done <-chan struct{}) {
	select {
	case <-r.Context().Done():
	case <-done:
	}
}

// ginRouter serves mux and answers what it has no route for as Ollama's
// router (gin) does: "404 page not found", or "405 method not allowed" with
// an Allow header when the path has routes for other methods; text/plain
// with no charset and no newline.
func ginRouter(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := mux.Handler(r); pattern != "" {
			mux.ServeHTTP(w, r)
			return
		}
		var allow []string
		for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
			other := r.Clone(r.Context())
			other.Method = m
			if _, pattern := mux.Handler(other); pattern != "" {
				allow = append(allow, m)
			}
		}
		w.Header().Set("Content-Type", "text/plain")
		if len(allow) == 0 {
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte("404 page not found"))
			return
		}
		w.Header().Set("Allow", strings.Join(allow, ", "))
		w.WriteHeader(http.StatusMethodNotAllowed)
		_, _ = w.Write([]byte("405 method not allowed"))
	})
}
