package sqlite

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"factorydesk/backend"
)

// epoch is the first time the test clock gives.
var epoch = time.Date(2025, 3, 1, 9, 30, 0, 123456789, time.UTC)

// testClock returns a clock that starts at epoch and moves one second per call.
func testClock() func() time.Time {
	var mu sync.Mutex
	t := epoch
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t = t.Add(time.Second)
		return t
	}
}

// openDB opens a database at path with the test clock, closed with the test.
func openDB(t testing.TB, path string) *DB {
	t.Helper()
	d := NewDB(path)
	d.Now = testClock()
	if err := d.Open(); err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() {
		if err := d.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return d
}

// newDB opens a fresh database in a temporary workspace.
func newDB(t testing.TB) *DB {
	t.Helper()
	return openDB(t, filepath.Join(t.TempDir(), ".factory", "factory.db"))
}

// wantCode fails the test unless err carries the code.
func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := backend.ErrorCode(err); got != code {
		t.Fatalf("error %v: code %q, want %q", err, got, code)
	}
}

func TestOpen(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		path string // relative to a temporary folder
	}{
		{"workspace", ".factory/factory.db"},
		{"nested missing folders", "a/b/c/factory.db"},
		{"odd characters", "sp ace ?#%&=/factory.db"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), tt.path)
			d := NewDB(path)
			if err := d.Open(); err != nil {
				t.Fatalf("Open: %v", err)
			}
			if _, err := d.PutBlob(ctx, []byte("x")); err != nil {
				t.Fatalf("PutBlob: %v", err)
			}
			if err := d.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if _, err := os.Stat(path); err != nil {
				t.Fatalf("database file: %v", err)
			}
			// Opening again applies no migration twice and keeps the data.
			d2 := openDB(t, path)
			if _, err := d2.Blob(ctx, sha("x")); err != nil {
				t.Fatalf("Blob after reopen: %v", err)
			}
			var n int
			if err := d2.rdb.QueryRow(`SELECT COUNT(*) FROM migrations`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			files, err := fs.Glob(migrationFS, "migration/*.sql")
			if err != nil {
				t.Fatal(err)
			}
			if n != len(files) {
				t.Fatalf("%d migrations recorded, want %d", n, len(files))
			}
		})
	}
}

func TestOpenPragmas(t *testing.T) {
	d := newDB(t)
	tests := []struct {
		name, pragma, want string
	}{
		{"journal mode", "journal_mode", "wal"},
		{"foreign keys", "foreign_keys", "1"},
		{"busy timeout", "busy_timeout", "10000"},
		{"synchronous normal", "synchronous", "1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got string
			if err := d.db.QueryRow("PRAGMA " + tt.pragma).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("PRAGMA %s = %s, want %s", tt.pragma, got, tt.want)
			}
		})
	}
	t.Run("reads are read-only", func(t *testing.T) {
		if _, err := d.rdb.Exec(`DELETE FROM blobs`); err == nil {
			t.Fatal("a write through the read pool succeeded")
		}
	})
}

func TestOpenErrors(t *testing.T) {
	t.Run("empty path", func(t *testing.T) {
		wantCode(t, NewDB("").Open(), backend.EINVALID)
	})
	t.Run("parent is a file", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "file")
		if err := os.WriteFile(file, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		wantCode(t, NewDB(filepath.Join(file, "factory.db")).Open(), backend.EINTERNAL)
	})
	t.Run("open twice", func(t *testing.T) {
		d := newDB(t)
		wantCode(t, d.Open(), backend.ECONFLICT)
	})
	t.Run("not open", func(t *testing.T) {
		d := NewDB(filepath.Join(t.TempDir(), "f.db"))
		_, err := d.PutBlob(context.Background(), nil)
		wantCode(t, err, backend.EINTERNAL)
		if err := d.Close(); err != nil {
			t.Fatalf("Close of a DB never opened: %v", err)
		}
	})
	t.Run("canceled", func(t *testing.T) {
		d := newDB(t)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := d.PutBlob(ctx, []byte("x"))
		wantCode(t, err, backend.ECANCELED)
	})
}

// sha returns the sha256 hex of s.
func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func TestBlobs(t *testing.T) {
	ctx := context.Background()
	big := bytes.Repeat([]byte("0123456789abcdef"), 5<<20/16) // 5 MiB
	big[len(big)-1] = 0
	tests := []struct {
		name string
		data []byte
	}{
		{"text", []byte("hello, factory")},
		{"empty", []byte{}},
		{"nil", nil},
		{"binary", []byte{0, 1, 2, 0xff, 0xfe, 0}},
		{"5 MiB", big},
	}
	d := newDB(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hash, err := d.PutBlob(ctx, tt.data)
			if err != nil {
				t.Fatalf("PutBlob: %v", err)
			}
			if want := sha(string(tt.data)); hash != want {
				t.Fatalf("hash %s, want %s", hash, want)
			}
			got, err := d.Blob(ctx, hash)
			if err != nil {
				t.Fatalf("Blob: %v", err)
			}
			if got == nil || !bytes.Equal(got, tt.data) {
				t.Fatalf("Blob returned %d bytes (nil %v), want %d", len(got), got == nil, len(tt.data))
			}
		})
	}
	t.Run("dedupe", func(t *testing.T) {
		for range 3 {
			if _, err := d.PutBlob(ctx, []byte("same")); err != nil {
				t.Fatal(err)
			}
		}
		var n, size int
		if err := d.rdb.QueryRow(`SELECT COUNT(*), SUM(size) FROM blobs WHERE hash = ?`, sha("same")).Scan(&n, &size); err != nil {
			t.Fatal(err)
		}
		if n != 1 || size != 4 {
			t.Fatalf("%d rows of %d bytes, want 1 of 4", n, size)
		}
	})
	t.Run("not found", func(t *testing.T) {
		_, err := d.Blob(ctx, sha("absent"))
		wantCode(t, err, backend.ENOTFOUND)
	})
}

func TestBlueprintVersions(t *testing.T) {
	ctx := context.Background()
	d := newDB(t)
	text := []byte("---\nblueprint: orders\n---\n# Orders\n")
	v := sha(string(text))
	t.Run("save twice", func(t *testing.T) {
		for range 2 {
			if err := d.SaveBlueprintVersion(ctx, "orders", v, "blueprints/orders.md", text); err != nil {
				t.Fatalf("SaveBlueprintVersion: %v", err)
			}
		}
		got, err := d.BlueprintVersion(ctx, v)
		if err != nil {
			t.Fatalf("BlueprintVersion: %v", err)
		}
		if !bytes.Equal(got, text) {
			t.Fatalf("text %q, want %q", got, text)
		}
	})
	t.Run("not found", func(t *testing.T) {
		_, err := d.BlueprintVersion(ctx, sha("other"))
		wantCode(t, err, backend.ENOTFOUND)
	})
	t.Run("empty version", func(t *testing.T) {
		wantCode(t, d.SaveBlueprintVersion(ctx, "orders", "", "p", text), backend.EINVALID)
	})
	t.Run("empty blueprint id", func(t *testing.T) {
		wantCode(t, d.SaveBlueprintVersion(ctx, "", v, "p", text), backend.EINVALID)
	})
}

// TestBatch: writes made with a batch's ctx commit together, or not at all
// when fn fails; writes with another ctx are not part of it.
func TestBatch(t *testing.T) {
	d := newDB(t)
	ctx := context.Background()
	var kept, lost string
	err := d.Batch(ctx, func(ctx context.Context) error {
		var err error
		kept, err = d.PutBlob(ctx, []byte("kept"))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err = d.Batch(ctx, func(ctx context.Context) error {
		var err error
		if lost, err = d.PutBlob(ctx, []byte("rolled back")); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Batch = %v, want the error of fn", err)
	}
	if got, err := d.Blob(ctx, kept); err != nil || string(got) != "kept" {
		t.Errorf("the committed batch's blob: %q, %v", got, err)
	}
	if _, err := d.Blob(ctx, lost); backend.ErrorCode(err) != backend.ENOTFOUND {
		t.Errorf("the failed batch's blob: %v, want not found", err)
	}
}
