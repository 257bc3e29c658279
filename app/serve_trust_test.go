package app_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"factorydesk/app"
)

// call sends one request to a factory serve at base with host as its Host
// header (and Origin) and returns the status and body.
func call(t *testing.T, base, host, method, path, body string, headers map[string]string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
		req.Header.Set("Origin", "http://"+host)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, string(data)
}

// TestServeRefusesDNSRebinding replays the attack on the real factory
// serve without a token: a page on evil.example, whose name now resolves to
// 127.0.0.1, posts SaveSettings with its own Host and a matching Origin to
// point the model host elsewhere and turn the sandbox off. It is refused,
// no settings file is written and the settings are unchanged; the same call
// naming the bound address (the control) works. Every response refuses to
// be framed.
func TestServeRefusesDNSRebinding(t *testing.T) {
	bin := buildFactory(t, "")
	ws := newWorkspace(t, bin)
	printed, _ := serve(t, bin, ws, nil)
	pu, err := url.Parse(printed)
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + pu.Host
	evil := "evil.example:" + pu.Port()
	attack := `[{"ollama_host":"http://203.0.113.9:11434","sandbox":"off"}]`
	csrf := map[string]string{"X-Factory-Request": "1", "Content-Type": "application/json"}

	for _, r := range []struct{ method, path, body string }{
		{"POST", "/api/SaveSettings", attack},
		{"POST", "/api/Settings", "[]"},
		{"GET", "/api/events", ""},
		{"GET", "/", ""},
	} {
		status, h, body := call(t, base, evil, r.method, r.path, r.body, csrf)
		if status != http.StatusForbidden || !strings.Contains(body, "evil.example") {
			t.Errorf("%s %s for Host %s: status %d, want 403 naming the host: %s", r.method, r.path, evil, status, body)
		}
		if h.Get("X-Frame-Options") != "DENY" || h.Get("Content-Security-Policy") != "frame-ancestors 'none'" {
			t.Errorf("%s %s: X-Frame-Options %q, CSP %q", r.method, r.path, h.Get("X-Frame-Options"), h.Get("Content-Security-Policy"))
		}
	}
	if _, err := os.Stat(filepath.Join(ws, app.SettingsPath)); err == nil {
		t.Fatalf("the refused call wrote %s", app.SettingsPath)
	}
	status, h, body := call(t, base, pu.Host, "POST", "/api/Settings", "[]", csrf)
	var s app.Settings
	if status != 200 || json.Unmarshal([]byte(body), &s) != nil {
		t.Fatalf("Settings: status %d %s", status, body)
	}
	if s.Sandbox != "auto" || strings.Contains(s.OllamaHost, "203.0.113.9") {
		t.Fatalf("settings after the refused call: %+v", s)
	}
	if h.Get("X-Frame-Options") != "DENY" {
		t.Errorf("a served call may be framed: X-Frame-Options %q", h.Get("X-Frame-Options"))
	}

	// Control: the same call from the app's own page (its Host) is served.
	for _, host := range []string{pu.Host, "localhost:" + pu.Port()} {
		if status, _, body := call(t, base, host, "POST", "/api/SaveSettings", attack, csrf); status != 200 {
			t.Fatalf("SaveSettings for Host %s: status %d %s", host, status, body)
		}
	}
	data, err := os.ReadFile(filepath.Join(ws, app.SettingsPath))
	if err != nil || !strings.Contains(string(data), `"sandbox": "off"`) {
		t.Fatalf("the control call did not save: %v %s", err, data)
	}
}

// TestServeTokenOutOfSight: the token can come from FACTORY_TOKEN or a file,
// and then it is not on factory serve's command line (ps shows that).
func TestServeTokenOutOfSight(t *testing.T) {
	bin := buildFactory(t, "")
	ws := newWorkspace(t, bin)
	const token = "token-out-of-sight-0123456789"
	file := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(file, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		env  []string
		args []string
	}{
		{name: "environment", env: []string{"FACTORY_TOKEN=" + token}},
		{name: "file", args: []string{"--token-file", file}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			printed, pid := serve(t, bin, ws, tt.env, tt.args...)
			pu, err := url.Parse(printed)
			if err != nil || pu.Query().Get("token") != token {
				t.Fatalf("factory serve printed %q, want its URL with the token", printed)
			}
			cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
			if err == nil && strings.Contains(string(cmdline), token) {
				t.Errorf("the token is on the command line: %q", cmdline)
			}
			base := "http://" + pu.Host
			hdr := map[string]string{"X-Factory-Request": "1"}
			if status, _, _ := call(t, base, "", "POST", "/api/Info", "[]", hdr); status != 401 {
				t.Errorf("call without the token: status %d, want 401", status)
			}
			hdr["Authorization"] = "Bearer " + token
			if status, _, body := call(t, base, "", "POST", "/api/Info", "[]", hdr); status != 200 {
				t.Errorf("call with the token: status %d %s", status, body)
			}
		})
	}
}

// TestServeWildcardPrintsUsableURL: bound to every address, factory serve
// prints a URL a browser on this machine can open (not http://[::]:P), with
// its generated token.
func TestServeWildcardPrintsUsableURL(t *testing.T) {
	bin := buildFactory(t, "")
	ws := newWorkspace(t, bin)
	printed, _ := serve(t, bin, ws, nil, "--addr", "0.0.0.0:0")
	pu, err := url.Parse(printed)
	if err != nil || pu.Hostname() != "127.0.0.1" || pu.Query().Get("token") == "" {
		t.Fatalf("factory serve --addr 0.0.0.0:0 printed %q, want http://127.0.0.1:PORT/?token=…", printed)
	}
	if status, _, body := call(t, printed, "", "GET", "", "", nil); status != 200 || !strings.Contains(body, "<") {
		t.Errorf("the printed URL: status %d %.80s", status, body)
	}
}

// TestServeLimitsEventStreams opens as many event streams as the real
// factory serve allows: the next is refused with 503 and those open keep
// working.
func TestServeLimitsEventStreams(t *testing.T) {
	bin := buildFactory(t, "")
	ws := newWorkspace(t, bin)
	printed, _ := serve(t, bin, ws, nil)
	pu, _ := url.Parse(printed)
	base := "http://" + pu.Host
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	client := &http.Client{}
	var open []*bufio.Reader
	for i := range app.DefaultMaxEventClients {
		req, _ := http.NewRequestWithContext(ctx, "GET", base+"/api/events", nil)
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		if res.StatusCode != 200 {
			t.Fatalf("stream %d of %d: status %d", i+1, app.DefaultMaxEventClients, res.StatusCode)
		}
		br := bufio.NewReader(res.Body)
		if line, _ := br.ReadString('\n'); line != ": connected\n" {
			t.Fatalf("stream %d starts with %q", i+1, line)
		}
		open = append(open, br)
	}
	status, _, body := call(t, base, "", "GET", "/api/events", "", nil)
	if status != http.StatusServiceUnavailable || !strings.Contains(body, "too many event streams") {
		t.Fatalf("one stream over the limit: status %d %s", status, body)
	}
	if len(open) != app.DefaultMaxEventClients {
		t.Fatalf("%d streams open", len(open))
	}
}

// peakRSS is the peak resident memory of process pid (VmHWM), in bytes.
func peakRSS(t *testing.T, pid int) int64 {
	t.Helper()
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Skipf("no /proc here: %v", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmHWM in /proc/PID/status")
	return 0
}

// TestServeBlueprintsRefusesNestedYAML: with a 60 KB front matter of nested
// "[" in the workspace (it made one Blueprints call take 13 s and 1.4 GB),
// the real factory serve lists the other blueprints and leaves that one
// out, unparsed, its memory bounded.
func TestServeBlueprintsRefusesNestedYAML(t *testing.T) {
	bin := buildFactory(t, "")
	ws := newWorkspace(t, bin)
	bomb := "---\nblueprint: evil\nsteps: " + strings.Repeat("[", 60<<10) + "\n---\n"
	if err := os.WriteFile(filepath.Join(ws, "blueprints", "evil.md"), []byte(bomb), 0o644); err != nil {
		t.Fatal(err)
	}
	printed, pid := serve(t, bin, ws, nil)
	pu, _ := url.Parse(printed)
	status, _, body := call(t, "http://"+pu.Host, "", "POST", "/api/Blueprints", "[]", map[string]string{"X-Factory-Request": "1"})
	var list []app.BlueprintSummary
	if status != 200 || json.Unmarshal([]byte(body), &list) != nil {
		t.Fatalf("Blueprints: status %d %.200s", status, body)
	}
	var paths []string
	for _, b := range list {
		paths = append(paths, b.Path)
	}
	if got := strings.Join(paths, " "); !strings.Contains(got, "blueprints/hello.md") || strings.Contains(got, "evil") {
		t.Errorf("Blueprints listed %s", got)
	}
	if peak := peakRSS(t, pid); peak > 256<<20 {
		t.Errorf("factory serve peaked at %d MB", peak>>20)
	}
}
