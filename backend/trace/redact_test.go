package trace

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
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

// TestStreamRedactsSplitSecrets streams texts holding secrets cut into
// pieces at every position: no emitted piece, nor their concatenation,
// holds a secret value or a part of one that Redact would have hidden.
func TestStreamRedactsSplitSecrets(t *testing.T) {
	secrets := map[string]string{"DB_PASSWORD": "hunter2-canary-42", "TOKEN": "tok-canary"}
	r := NewRedactor(secrets)
	texts := []string{
		"password: hunter2-canary-42 and token tok-canary.",
		"hunter2-canary-42",
		"tok-canarytok-canary hunter2-canary-4 (almost) hunter2-canary-42",
		"no secret here, just hunter and tok-",
	}
	for _, text := range texts {
		want := r.Redact(text)
		for cut1 := 0; cut1 <= len(text); cut1++ {
			for cut2 := cut1; cut2 <= len(text); cut2 += 3 {
				st := r.Stream()
				var got strings.Builder
				for _, piece := range []string{text[:cut1], text[cut1:cut2], text[cut2:]} {
					out := st.Write(piece)
					for _, v := range secrets {
						if strings.Contains(out, v) {
							t.Fatalf("%q cut at %d,%d: piece %q holds a secret", text, cut1, cut2, out)
						}
					}
					got.WriteString(out)
				}
				got.WriteString(st.Flush())
				if got.String() != want {
					t.Fatalf("%q cut at %d,%d: streamed %q, want %q", text, cut1, cut2, got.String(), want)
				}
			}
		}
	}
	var none *Redactor
	if got := none.Stream().Write("abc"); got != "abc" {
		t.Errorf("a nil redactor's stream changed the text: %q", got)
	}
}
