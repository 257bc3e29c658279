package app

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"factorydesk/backend"
)

const testToken = "s3cret-token"

// newTestServer serves a fresh App over HTTP with token (none when "").
func newTestServer(t *testing.T, token string) (*App, *httptest.Server) {
	t.Helper()
	a := newTestApp(t, nil)
	static := fstest.MapFS{"index.html": {Data: []byte("<!doctype html><title>Factory Desk</title>")}}
	hs := httptest.NewUnstartedServer(nil)
	s := NewServer(a, ServerConfig{Token: token, Static: static, Addr: hs.Listener.Addr().String()})
	hs.Config.Handler = s.Handler()
	hs.Start()
	t.Cleanup(func() {
		s.Close()
		hs.Close()
	})
	return a, hs
}

type request struct {
	method  string
	path    string
	body    string
	headers map[string]string
}

func do(t *testing.T, hs *httptest.Server, r request) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(r.method, hs.URL+r.path, strings.NewReader(r.body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range r.headers {
		req.Header.Set(k, v)
	}
	res, err := hs.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(body)
}

// api is a well-formed call of method from the frontend.
func api(method, body string, headers ...string) request {
	h := map[string]string{"X-Factory-Request": "1", "Content-Type": "application/json"}
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			delete(h, headers[i])
		} else {
			h[headers[i]] = headers[i+1]
		}
	}
	return request{method: http.MethodPost, path: "/api/" + method, body: body, headers: h}
}

func TestServerGuard(t *testing.T) {
	tests := []struct {
		name     string
		token    string
		req      func(hs *httptest.Server) request
		status   int
		wantCode string // the JSON error's code, when the status is an error
	}{
		{name: "loopback call without token", req: func(*httptest.Server) request { return api("Info", "[]") }, status: 200},
		{name: "call without the CSRF header", req: func(*httptest.Server) request { return api("Info", "[]", "X-Factory-Request", "") },
			status: 403, wantCode: backend.EINVALID},
		{name: "cross-site Origin", req: func(*httptest.Server) request { return api("Info", "[]", "Origin", "https://evil.example") },
			status: 403, wantCode: backend.EINVALID},
		{name: "same-host Origin", req: func(hs *httptest.Server) request { return api("Info", "[]", "Origin", hs.URL) }, status: 200},
		{name: "cross-site Origin on the event stream", req: func(*httptest.Server) request {
			return request{method: http.MethodGet, path: "/api/events", headers: map[string]string{"Origin": "http://127.0.0.1:1"}}
		}, status: 403, wantCode: backend.EINVALID},
		{name: "token required, none given", token: testToken, req: func(*httptest.Server) request { return api("Info", "[]") },
			status: 401, wantCode: backend.EINVALID},
		{name: "token required, wrong bearer", token: testToken, req: func(*httptest.Server) request {
			return api("Info", "[]", "Authorization", "Bearer nope")
		}, status: 401, wantCode: backend.EINVALID},
		{name: "token as bearer", token: testToken, req: func(*httptest.Server) request {
			return api("Info", "[]", "Authorization", "Bearer "+testToken)
		}, status: 200},
		{name: "token as cookie", token: testToken, req: func(*httptest.Server) request {
			return api("Info", "[]", "Cookie", "factory_token="+testToken)
		}, status: 200},
		{name: "token as query parameter", token: testToken, req: func(*httptest.Server) request {
			r := api("Info", "[]")
			r.path += "?token=" + testToken
			return r
		}, status: 200},
		{name: "token does not excuse the CSRF header", token: testToken, req: func(*httptest.Server) request {
			return api("Info", "[]", "Authorization", "Bearer "+testToken, "X-Factory-Request", "")
		}, status: 403, wantCode: backend.EINVALID},
		{name: "page without token", token: testToken, req: func(*httptest.Server) request {
			return request{method: http.MethodGet, path: "/"}
		}, status: 401, wantCode: backend.EINVALID},
		{name: "page with token", token: testToken, req: func(*httptest.Server) request {
			return request{method: http.MethodGet, path: "/?token=" + testToken}
		}, status: 200},
		{name: "page on loopback", req: func(*httptest.Server) request { return request{method: http.MethodGet, path: "/"} }, status: 200},
		{name: "body over the limit", req: func(*httptest.Server) request {
			return api("Blueprint", `["`+strings.Repeat("x", maxBody)+`"]`)
		}, status: 413, wantCode: backend.EINVALID},
		{name: "unknown method", req: func(*httptest.Server) request { return api("Nope", "[]") }, status: 404, wantCode: backend.ENOTFOUND},
		{name: "wrong argument count", req: func(*httptest.Server) request { return api("Run", "[]") }, status: 400, wantCode: backend.EINVALID},
		{name: "wrong argument type", req: func(*httptest.Server) request { return api("Run", "[42]") }, status: 400, wantCode: backend.EINVALID},
		{name: "a method's own error", req: func(*httptest.Server) request { return api("Run", `["ffff"]`) }, status: 404, wantCode: backend.ENOTFOUND},
		// GET falls through to the pages, where no file has that name.
		{name: "GET is not a call", req: func(*httptest.Server) request { return request{method: http.MethodGet, path: "/api/Info"} }, status: 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, hs := newTestServer(t, tt.token)
			res, body := do(t, hs, tt.req(hs))
			if res.StatusCode != tt.status {
				t.Fatalf("status %d, want %d; body %s", res.StatusCode, tt.status, body)
			}
			if tt.wantCode == "" {
				return
			}
			var e apiError
			if err := json.Unmarshal([]byte(body), &e); err != nil {
				t.Fatalf("error body is not JSON: %v: %s", err, body)
			}
			if e.Error.Code != tt.wantCode || e.Error.Message == "" {
				t.Errorf("error %+v, want code %q and a message", e.Error, tt.wantCode)
			}
		})
	}
}

func TestServerSetsTokenCookie(t *testing.T) {
	_, hs := newTestServer(t, testToken)
	res, _ := do(t, hs, request{method: http.MethodGet, path: "/?token=" + testToken})
	var got *http.Cookie
	for _, c := range res.Cookies() {
		if c.Name == "factory_token" {
			got = c
		}
	}
	if got == nil || got.Value != testToken || !got.HttpOnly || got.SameSite != http.SameSiteStrictMode {
		t.Fatalf("cookie %+v, want factory_token, HttpOnly, SameSite=Strict", got)
	}
}

func TestServerCallAnswersJSON(t *testing.T) {
	a, hs := newTestServer(t, "")
	res, body := do(t, hs, api("Info", "[]"))
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("status %d, type %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	var info Info
	if err := json.Unmarshal([]byte(body), &info); err != nil || info.Workspace != a.cfg.Root {
		t.Errorf("Info = %+v, %v; want workspace %s", info, err, a.cfg.Root)
	}
}

// sseReader reads event batches from an SSE stream.
type sseReader struct {
	t  *testing.T
	sc *bufio.Scanner
}

func openEvents(t *testing.T, hs *httptest.Server) *sseReader {
	t.Helper()
	return openStream(t, hs).sseReader
}

// next returns the next batch, skipping comments.
func (r *sseReader) next() []Event {
	r.t.Helper()
	for r.sc.Scan() {
		line := r.sc.Text()
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			continue
		}
		var batch []Event
		if err := json.Unmarshal([]byte(data), &batch); err != nil {
			r.t.Fatalf("frame %q: %v", data, err)
		}
		return batch
	}
	r.t.Fatalf("the event stream ended: %v", r.sc.Err())
	return nil
}

// collect reads batches until it has seen n events or the run ends.
func (r *sseReader) collect(n int) []Event {
	r.t.Helper()
	var all []Event
	for len(all) < n {
		all = append(all, r.next()...)
	}
	return all
}

func TestServerDeliversBatchedEvents(t *testing.T) {
	a, hs := newTestServer(t, "")
	stream := openEvents(t, hs)
	a.emit(Event{Kind: "run", RunID: "r1", Status: backend.StatusRunning})
	for _, piece := range []string{"Hel", "lo, ", "world"} {
		a.emit(Event{Kind: "token", RunID: "r1", StepID: "s", Attempt: 1, Text: piece})
	}
	a.emit(Event{Kind: "step", RunID: "r1", StepID: "s", Status: backend.StatusSucceeded})

	var kinds []string
	text := ""
	for _, e := range stream.collect(3) {
		if e.Time.IsZero() {
			t.Errorf("event %+v has no time", e)
		}
		if e.Kind == "token" {
			text += e.Text
			continue
		}
		kinds = append(kinds, e.Kind+":"+e.Status)
	}
	if text != "Hello, world" {
		t.Errorf("tokens arrived as %q", text)
	}
	if strings.Join(kinds, " ") != "run:running step:succeeded" {
		t.Errorf("events arrived as %v", kinds)
	}
}

func TestBatcherMergesTokensOfOneAttempt(t *testing.T) {
	b := newBatcher(time.Hour) // flushed by hand below
	var got [][]Event
	b.subscribe(func(batch []Event) { got = append(got, batch) })
	for _, e := range []Event{
		{Kind: "token", RunID: "r", StepID: "a", Attempt: 1, Text: "x"},
		{Kind: "token", RunID: "r", StepID: "a", Attempt: 1, Text: "y"},
		{Kind: "token", RunID: "r", StepID: "b", Attempt: 1, Text: "z"},
		{Kind: "token", RunID: "r", StepID: "b", Attempt: 2, Text: "w"},
		{Kind: "step", RunID: "r", StepID: "b", Status: backend.StatusRunning},
		{Kind: "token", RunID: "r", StepID: "b", Attempt: 2, Text: "v"},
	} {
		b.add(e)
	}
	b.flush()
	b.stop()
	b.add(Event{Kind: "run"}) // dropped: stopped
	b.flush()
	if len(got) != 1 {
		t.Fatalf("%d batches, want 1", len(got))
	}
	var desc []string
	for _, e := range got[0] {
		desc = append(desc, e.StepID+e.Kind+":"+e.Text)
	}
	want := "atoken:xy btoken:z btoken:w bstep: btoken:v"
	if strings.Join(desc, " ") != want {
		t.Errorf("batch %v, want %s", desc, want)
	}
}

func TestBatcherWithoutSubscribersDropsEvents(t *testing.T) {
	b := newBatcher(time.Hour)
	b.add(Event{Kind: "run"})
	var got []Event
	unsubscribe := b.subscribe(func(batch []Event) { got = append(got, batch...) })
	b.flush()
	if len(got) != 0 {
		t.Errorf("an event queued with no subscriber was delivered: %+v", got)
	}
	unsubscribe()
	b.add(Event{Kind: "run"})
	b.flush()
	if len(got) != 0 {
		t.Errorf("an event was delivered after unsubscribe: %+v", got)
	}
}

func TestLoopbackHost(t *testing.T) {
	tests := []struct {
		host, bound string
		want        bool
	}{
		{"127.0.0.1:7777", "127.0.0.1:7777", true},
		{"localhost:7777", "127.0.0.1:7777", true},
		{"LOCALHOST:7777", "127.0.0.1:7777", true},
		{"[::1]:7777", "127.0.0.1:7777", true},
		{"127.0.0.2:7777", "127.0.0.2:7777", true},
		{"localhost", "127.0.0.1:80", true},
		{"localhost:7777", "", true},
		{"evil.example:7777", "127.0.0.1:7777", false},
		{"evil.example", "127.0.0.1:80", false},
		{"localhost.evil.example:7777", "127.0.0.1:7777", false},
		{"127.0.0.1:7778", "127.0.0.1:7777", false},
		{"localhost", "127.0.0.1:7777", false},
		{"127.0.0.2:7777", "127.0.0.1:7777", false},
		{"192.168.1.10:7777", "0.0.0.0:7777", false},
		{"", "127.0.0.1:7777", false},
	}
	for _, tt := range tests {
		t.Run(tt.host+" on "+tt.bound, func(t *testing.T) {
			if got := loopbackHost(tt.host, tt.bound); got != tt.want {
				t.Errorf("loopbackHost(%q, %q) = %v, want %v", tt.host, tt.bound, got, tt.want)
			}
		})
	}
}

// TestServerRefusesForeignHosts: without a token, a request naming another
// host (a page on evil.example rebound to 127.0.0.1) is refused before any
// method runs, whatever its Origin; with a token the Host is not the guard.
func TestServerRefusesForeignHosts(t *testing.T) {
	tests := []struct {
		name   string
		token  string
		host   string
		status int
	}{
		{name: "rebound name", host: "evil.example", status: 403},
		{name: "loopback name on another port", host: "127.0.0.1:1", status: 403},
		{name: "localhost", host: "localhost", status: 200},
		{name: "token in use", token: testToken, host: "evil.example", status: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, hs := newTestServer(t, tt.token)
			_, port, _ := strings.Cut(strings.TrimPrefix(hs.URL, "http://"), ":")
			host := tt.host
			if !strings.Contains(host, ":") {
				host += ":" + port
			}
			req, err := http.NewRequest(http.MethodPost, hs.URL+"/api/SaveSettings", strings.NewReader(`[{"sandbox":"off"}]`))
			if err != nil {
				t.Fatal(err)
			}
			req.Host = host
			req.Header.Set("Origin", "http://"+host)
			req.Header.Set("X-Factory-Request", "1")
			if tt.token != "" {
				req.Header.Set("Authorization", "Bearer "+tt.token)
			}
			res, err := hs.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", res.StatusCode, tt.status, body)
			}
			changed := a.currentSettings().Sandbox == "off"
			if changed != (tt.status == 200) {
				t.Errorf("sandbox setting changed: %v, want %v", changed, tt.status == 200)
			}
		})
	}
}

// TestServerRefusesFraming: every response, error or not, forbids framing.
func TestServerRefusesFraming(t *testing.T) {
	for _, token := range []string{"", testToken} {
		_, hs := newTestServer(t, token)
		for _, r := range []request{
			{method: http.MethodGet, path: "/"},
			{method: http.MethodGet, path: "/missing.js"},
			api("Info", "[]"),
			api("Nope", "[]"),
			{method: http.MethodGet, path: "/", headers: map[string]string{"Origin": "https://evil.example"}},
		} {
			res, _ := do(t, hs, r)
			if res.Header.Get("X-Frame-Options") != "DENY" || res.Header.Get("Content-Security-Policy") != "frame-ancestors 'none'" {
				t.Errorf("token %q, %s %s (status %d): X-Frame-Options %q, CSP %q", token, r.method, r.path, res.StatusCode,
					res.Header.Get("X-Frame-Options"), res.Header.Get("Content-Security-Policy"))
			}
		}
	}
}

// TestServerLimitsEventClients opens event streams up to the limit: one
// more is refused with 503, and a stream closed makes room again.
func TestServerLimitsEventClients(t *testing.T) {
	a := newTestApp(t, nil)
	hs := httptest.NewUnstartedServer(nil)
	const limit = 40
	s := NewServer(a, ServerConfig{Addr: hs.Listener.Addr().String(), MaxEventClients: limit})
	hs.Config.Handler = s.Handler()
	hs.Start()
	t.Cleanup(func() {
		s.Close()
		hs.Close()
	})
	streams := make([]*sseStream, 0, limit)
	for range limit {
		streams = append(streams, openStream(t, hs))
	}
	for i := range 3 {
		res, body := do(t, hs, request{method: http.MethodGet, path: "/api/events"})
		if res.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "too many event streams") {
			t.Fatalf("stream %d over the limit: status %d %s", limit+i+1, res.StatusCode, body)
		}
	}
	streams[0].close()
	// The server notices the closed stream when its handler returns; wait
	// for the room it makes.
	deadline := time.Now().Add(time.Minute)
	for {
		res, err := hs.Client().Get(hs.URL + "/api/events")
		if err != nil {
			t.Fatal(err)
		}
		ok := res.StatusCode == 200
		res.Body.Close()
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a closed stream never made room for a new one")
		}
		time.Sleep(20 * time.Millisecond)
	}
	a.emit(Event{Kind: "run", RunID: "r1", Status: backend.StatusRunning})
	for _, st := range streams[1:] {
		if batch := st.next(); len(batch) != 1 || batch[0].RunID != "r1" {
			t.Fatalf("a stream within the limit got %+v", batch)
		}
	}
}

// sseStream is an open event stream that can be closed before the test ends.
type sseStream struct {
	*sseReader
	close func()
}

func openStream(t *testing.T, hs *httptest.Server) *sseStream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, hs.URL+"/api/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := hs.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	closeFn := func() {
		cancel()
		res.Body.Close()
	}
	t.Cleanup(closeFn)
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("events: status %d, type %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	r := &sseReader{t: t, sc: bufio.NewScanner(res.Body)}
	r.sc.Buffer(make([]byte, 1<<20), 16<<20)
	if !r.sc.Scan() || r.sc.Text() != ": connected" {
		t.Fatalf("the stream does not start with a comment: %q", r.sc.Text())
	}
	return &sseStream{sseReader: r, close: closeFn}
}
