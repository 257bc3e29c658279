package trace

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestRedact(t *testing.T) {
	r := NewRedactor(map[string]string{
		"TOKEN":   "tok-123456",
		"LONG":    "tok-123456-extended",
		"PIN":     "123", // too short to redact
		"OVERLAP": "456-ext",
		"EMPTY":   "",
		"REPEAT":  "aaaa",
	})
	tests := []struct {
		name, in, want string
	}{
		{"no secret", "nothing to hide", "nothing to hide"},
		{"one secret", "Bearer tok-123456.", "Bearer ${TOKEN}."},
		{"longest first", "key=tok-123456-extended", "key=${LONG}"},
		{"twice", "tok-123456 and tok-123456", "${TOKEN} and ${TOKEN}"},
		{"short value kept", "pin 123", "pin 123"},
		{"overlap hides both", "x tok-123456-ext y", "x ${TOKEN} y"},
		{"self overlap", "aaaaaa", "${REPEAT}"},
		{"adjacent", "aaaatok-123456", "${REPEAT}${TOKEN}"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := r.Redact(tt.in); got != tt.want {
				t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
	t.Run("nil redactor", func(t *testing.T) {
		var nr *Redactor
		if got := nr.Redact("tok-123456"); got != "tok-123456" {
			t.Errorf("nil Redactor changed the text: %q", got)
		}
	})
}

// dbFiles returns the bytes of the database file and its -wal and -shm
// companions, those that exist.
func dbFiles(t *testing.T, path string) []byte {
	t.Helper()
	var all []byte
	for _, suffix := range []string{"", "-wal", "-shm"} {
		data, err := os.ReadFile(path + suffix)
		if os.IsNotExist(err) && suffix != "" {
			continue
		}
		if err != nil {
			t.Fatalf("read %s: %v", filepath.Base(path+suffix), err)
		}
		all = append(all, data...)
	}
	return all
}

func TestRedactionReachesEveryExporter(t *testing.T) {
	for _, protocol := range []string{ProtocolHTTP, ProtocolGRPC} {
		t.Run(protocol, func(t *testing.T) {
			db := openStore(t)
			rcv := recordRun(t, db, protocol)
			checks := []struct {
				name string
				data func() []byte
			}{
				{"database files while open", func() []byte { return dbFiles(t, db.Path) }},
				{"OTLP request bodies", rcv.body},
				{"database files after close", func() []byte {
					if err := db.Close(); err != nil {
						t.Fatalf("Close: %v", err)
					}
					return dbFiles(t, db.Path)
				}},
			}
			for _, c := range checks {
				t.Run(c.name, func(t *testing.T) {
					data := c.data()
					if bytes.Contains(data, []byte(secretValue)) {
						t.Errorf("the secret value appears in the %s", c.name)
					}
					// Span name, two attributes, event, status: five at least.
					if n := bytes.Count(data, []byte(placeholder)); n < 5 {
						t.Errorf("%s placeholders in the %s, want 5 or more", placeholder, c.name)
					}
				})
			}
		})
	}
}
