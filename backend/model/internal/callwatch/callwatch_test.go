package callwatch_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"factorydesk/backend"
	"factorydesk/backend/model/internal/callwatch"
)

func TestInterrupted(t *testing.T) {
	tests := []struct {
		name     string
		stall    time.Duration
		total    time.Duration
		cancel   bool
		wantCode string
		wantMsg  string
	}{
		{"stall", time.Millisecond, time.Hour, false, backend.EUNAVAILABLE, "no data from the model server for 1ms (srv;"},
		{"timeout", time.Hour, time.Millisecond, false, backend.EUNAVAILABLE, "the model call to srv took longer than 1ms"},
		{"parent canceled", time.Hour, time.Hour, true, backend.ECANCELED, "model call to srv stopped: context canceled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parent, cancel := context.WithCancel(t.Context())
			defer cancel()
			c := callwatch.Begin(parent, tt.stall, tt.total)
			defer c.End()
			if tt.cancel {
				cancel()
			}
			<-c.Ctx.Done()
			err := c.Interrupted("srv")
			if backend.ErrorCode(err) != tt.wantCode || !strings.HasPrefix(err.Error(), tt.wantMsg) {
				t.Errorf("got %v (%s), want %s: %s", err, backend.ErrorCode(err), tt.wantCode, tt.wantMsg)
			}
		})
	}
}

func TestNotInterrupted(t *testing.T) {
	c := callwatch.Begin(t.Context(), time.Hour, 0)
	if err := c.Interrupted("srv"); err != nil {
		t.Errorf("running call: %v", err)
	}
	c.End()
	if err := c.Interrupted("srv"); err != nil {
		t.Errorf("ended call: %v", err)
	}
}

func TestBodyCounts(t *testing.T) {
	c := callwatch.Begin(t.Context(), time.Hour, 0)
	defer c.End()
	b := c.Body(io.NopCloser(strings.NewReader("twelve bytes")))
	if _, err := io.Copy(io.Discard, b); err != nil {
		t.Fatal(err)
	}
	if c.Bytes() != 12 {
		t.Errorf("bytes %d, want 12", c.Bytes())
	}
	cut := callwatch.Cut("srv", 12, io.ErrUnexpectedEOF)
	if !errors.Is(cut, io.ErrUnexpectedEOF) || cut.Code != backend.EINTERNAL ||
		cut.Message != "stream ended before the answer was complete (12 bytes received) from srv" {
		t.Errorf("cut: %#v", cut)
	}
}
