package engine

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"factorydesk/backend"
	"factorydesk/backend/sqlite"
)

// TestRecorderBatchFailureKeepsTheOthers queues many records, one of which
// fails, while the store is batching: every other record is written, and
// the failure is the recorder's error.
func TestRecorderBatchFailureKeepsTheOthers(t *testing.T) {
	db := sqlite.NewDB(filepath.Join(t.TempDir(), "factory.db"))
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	store := redactingStore{Store: db, redact: func(s string) string { return s }}
	rec := newRecorder(context.Background(), store)
	boom := errors.New("boom")
	hashes := make([]string, 200)
	for i := range hashes {
		rec.do(func(ctx context.Context, st backend.Store) error {
			if i == 57 {
				return boom
			}
			var err error
			hashes[i], err = st.PutBlob(ctx, fmt.Appendf(nil, "record %d", i))
			return err
		})
	}
	if err := rec.close(); !errors.Is(err, boom) {
		t.Fatalf("close = %v, want the failed record's error", err)
	}
	for i, h := range hashes {
		if i == 57 {
			continue
		}
		if got, err := db.Blob(context.Background(), h); err != nil || string(got) != fmt.Sprintf("record %d", i) {
			t.Fatalf("record %d: %q, %v", i, got, err)
		}
	}
}
