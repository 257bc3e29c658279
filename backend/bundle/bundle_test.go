package bundle_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"factorydesk/backend"
	"factorydesk/backend/bundle"
)

func sample(t *testing.T) []byte {
	t.Helper()
	text := []byte("---\nblueprint: x\n---\n# X\n")
	sum := sha256.Sum256(text)
	file := []byte("hello\n")
	fsum := sha256.Sum256(file)
	fh := hex.EncodeToString(fsum[:])
	b := &backend.RunBundle{
		Detail: backend.RunDetail{
			Run:       backend.Run{ID: "0123456789abcdef0123456789abcdef", BlueprintVersion: hex.EncodeToString(sum[:])},
			Artifacts: []backend.Artifact{{StepID: "s", Attempt: 1, Path: "a.txt", SHA256: fh}},
		},
		BlueprintText: text,
		Spans:         []backend.Span{{TraceID: "0123456789abcdef0123456789abcdef", SpanID: "0123456789abcdef", Name: "run", Attributes: map[string]any{"n": int64(3)}}},
		Blobs:         map[string][]byte{fh: file},
	}
	var buf bytes.Buffer
	if err := bundle.Write(&buf, b, time.Unix(0, 0)); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestRead(t *testing.T) {
	good := sample(t)
	flipped := bytes.Clone(good)
	flipped[len(flipped)/2] ^= 0xff
	tests := []struct {
		name string
		data []byte
		want string // "" for success, else a part of the error
	}{
		{"intact", good, ""},
		{"truncated", good[:len(good)*3/4], "damaged"},
		{"cut to the header", good[:20], "damaged"},
		{"a flipped byte", flipped, "damaged"},
		{"not a bundle", []byte("hello"), "not a gzip'd bundle"},
		{"empty", nil, "damaged"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := bundle.Read(bytes.NewReader(tt.data))
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if b.Detail.Run.ID != "0123456789abcdef0123456789abcdef" || len(b.Blobs) != 1 || len(b.Spans) != 1 {
					t.Errorf("read back %+v", b)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) || backend.ErrorCode(err) != backend.EINVALID {
				t.Fatalf("err = %v, want EINVALID containing %q", err, tt.want)
			}
		})
	}
}
