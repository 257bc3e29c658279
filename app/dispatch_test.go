package app

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"factorydesk/backend"
)

// surface is a small UI surface with every method shape the dispatcher
// knows, and some it must ignore.
type surface struct{ gotCtx context.Context }

type pair struct {
	A string `json:"a"`
	B int    `json:"b"`
}

func (s *surface) Hello() (string, error)    { return "hello", nil }
func (s *surface) Echo(p pair) (pair, error) { return p, nil }
func (s *surface) Add(a, b int) (int, error) { return a + b, nil }
func (s *surface) Nothing() error            { return nil }
func (s *surface) Fail() (string, error)     { return "", backend.Errorf(backend.ECONFLICT, "busy") }
func (s *surface) WithCtx(ctx context.Context, n int) (int, error) {
	s.gotCtx = ctx
	return n * 2, nil
}
func (s *surface) NoError() string                 { return "ignored" }
func (s *surface) ThreeResults() (int, int, error) { return 0, 0, nil }

type ctxKey struct{}

func TestDispatcherNames(t *testing.T) {
	d := newDispatcher(&surface{})
	want := []string{"Add", "Echo", "Fail", "Hello", "Nothing", "WithCtx"}
	if got := d.Names(); !reflect.DeepEqual(got, want) {
		t.Errorf("Names() = %v, want %v", got, want)
	}
}

func TestDispatcherCall(t *testing.T) {
	tests := []struct {
		name     string
		method   string
		args     string
		want     any
		wantCode string
		wantMsg  string
	}{
		{name: "no arguments", method: "Hello", args: `[]`, want: "hello"},
		{name: "null arguments", method: "Hello", args: `null`, want: "hello"},
		{name: "empty body", method: "Hello", args: ``, want: "hello"},
		{name: "struct argument", method: "Echo", args: `[{"a":"x","b":2}]`, want: pair{A: "x", B: 2}},
		{name: "two arguments", method: "Add", args: `[2, 3]`, want: 5},
		{name: "error only, no value", method: "Nothing", args: `[]`, want: nil},
		{name: "method error keeps its code", method: "Fail", args: `[]`, wantCode: backend.ECONFLICT, wantMsg: "busy"},
		{name: "context is not an argument", method: "WithCtx", args: `[21]`, want: 42},
		{name: "unknown method", method: "Nope", args: `[]`, wantCode: backend.ENOTFOUND, wantMsg: `no method "Nope"`},
		{name: "method without error result is not callable", method: "NoError", args: `[]`, wantCode: backend.ENOTFOUND},
		{name: "three results is not callable", method: "ThreeResults", args: `[]`, wantCode: backend.ENOTFOUND},
		{name: "too few arguments", method: "Add", args: `[1]`, wantCode: backend.EINVALID, wantMsg: "Add takes 2 argument(s), got 1"},
		{name: "too many arguments", method: "Hello", args: `[1]`, wantCode: backend.EINVALID, wantMsg: "Hello takes 0 argument(s), got 1"},
		{name: "arguments not an array", method: "Add", args: `{"a":1}`, wantCode: backend.EINVALID, wantMsg: "must be a JSON array"},
		{name: "argument of the wrong type", method: "Add", args: `[1, "two"]`, wantCode: backend.EINVALID, wantMsg: "Add argument 2"},
		{name: "struct field of the wrong type", method: "Echo", args: `[{"b":"x"}]`, wantCode: backend.EINVALID, wantMsg: "Echo argument 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDispatcher(&surface{})
			got, err := d.Call(context.Background(), tt.method, json.RawMessage(tt.args))
			if tt.wantCode != "" {
				if err == nil {
					t.Fatalf("Call = %v, want a %s error", got, tt.wantCode)
				}
				if code := backend.ErrorCode(err); code != tt.wantCode {
					t.Errorf("code %q, want %q (%v)", code, tt.wantCode, err)
				}
				if !strings.Contains(err.Error(), tt.wantMsg) {
					t.Errorf("error %q lacks %q", err, tt.wantMsg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Call = %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestDispatcherPassesContext(t *testing.T) {
	s := &surface{}
	ctx := context.WithValue(context.Background(), ctxKey{}, "mine")
	if _, err := newDispatcher(s).Call(ctx, "WithCtx", json.RawMessage(`[1]`)); err != nil {
		t.Fatal(err)
	}
	if s.gotCtx == nil || s.gotCtx.Value(ctxKey{}) != "mine" {
		t.Errorf("the method did not get the caller's context")
	}
}

// TestDispatcherServesTheAppSurface checks that browser mode offers the
// methods the frontend calls, and none of the App's unexported plumbing.
func TestDispatcherServesTheAppSurface(t *testing.T) {
	d := newDispatcher(&App{})
	names := map[string]bool{}
	for _, n := range d.Names() {
		names[n] = true
	}
	for _, want := range []string{"Info", "Blueprints", "Blueprint", "Runs", "Run", "StartRun", "CancelRun", "Blob",
		"Models", "PullModel", "DeleteModel", "Settings", "SaveSettings", "Compare", "OpenFile", "Resume",
		"Review", "Drift", "AcceptDrift", "RevertDrift"} {
		if !names[want] {
			t.Errorf("the dispatcher lacks %s; it serves %v", want, d.Names())
		}
	}
	for n := range names {
		if strings.ToLower(n[:1]) == n[:1] {
			t.Errorf("unexported method %s is served", n)
		}
	}
	var e *backend.Error
	_, err := d.Call(context.Background(), "shutdown", nil)
	if !errors.As(err, &e) || e.Code != backend.ENOTFOUND {
		t.Errorf("calling shutdown: %v, want not_found", err)
	}
}
