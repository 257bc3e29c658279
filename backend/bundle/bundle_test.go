package bundle_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"runtime"
	"strings"
	"testing"
	"time"

	"factorydesk/backend"
	"factorydesk/backend/bundle"
	"factorydesk/backend/bundle/bundletest"
)

func sample(t *testing.T) []byte {
	t.Helper()
	return write(t, sampleBundle())
}

// write writes b as a bundle.
func write(t testing.TB, b *backend.RunBundle) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := bundle.Write(&buf, b, time.Unix(0, 0)); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// sampleBundle is a small bundle of one run, one file and one span.
func sampleBundle() *backend.RunBundle {
	text := []byte("---\nblueprint: x\n---\n# X\n")
	sum := sha256.Sum256(text)
	file := []byte("hello\n")
	fsum := sha256.Sum256(file)
	fh := hex.EncodeToString(fsum[:])
	b := &backend.RunBundle{
		Detail: backend.RunDetail{
			Run:       backend.Run{ID: "0123456789abcdef0123456789abcdef", Output: "out/x", BlueprintVersion: hex.EncodeToString(sum[:])},
			Artifacts: []backend.Artifact{{StepID: "s", Attempt: 1, Path: "a.txt", SHA256: fh, Size: int64(len(file))}},
		},
		BlueprintText: text,
		Spans:         []backend.Span{{TraceID: "0123456789abcdef0123456789abcdef", SpanID: "0123456789abcdef", Name: "run", Attributes: map[string]any{"n": int64(3)}}},
		Blobs:         map[string][]byte{fh: file},
	}
	return b
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

// TestReadRefusesBombs: each bomb (about 1 MB, expanding to about 1 GiB)
// is refused as damaged, allocating a few MB at most.
func TestReadRefusesBombs(t *testing.T) {
	for name, data := range bundletest.Bombs() {
		t.Run(name, func(t *testing.T) {
			if len(data) > 2<<20 {
				t.Fatalf("the bomb is %d bytes", len(data))
			}
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := bundle.Read(bytes.NewReader(data))
			runtime.ReadMemStats(&after)
			if err == nil || backend.ErrorCode(err) != backend.EINVALID || !strings.Contains(err.Error(), "damaged") {
				t.Fatalf("err = %v, want EINVALID damaged", err)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20 {
				t.Errorf("reading the bomb allocated %d MB", alloc>>20)
			}
			t.Logf("refused: %v", err)
		})
	}
}

// BenchmarkRefuseBomb times the refusal of the bombs of bundletest.
func BenchmarkRefuseBomb(b *testing.B) {
	for name, data := range bundletest.Bombs() {
		b.Run(strings.ReplaceAll(name, " ", "_"), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := bundle.Read(bytes.NewReader(data)); err == nil {
					b.Fatal("read")
				}
			}
			b.ReportMetric(b.Elapsed().Seconds()*1000/float64(b.N), "ms/refusal")
		})
	}
}

// TestReadValidatesTheRecord: a bundle whose record would point outside the
// workspace, into its reserved folders or into other runs is refused.
func TestReadValidatesTheRecord(t *testing.T) {
	tests := []struct {
		name   string
		tamper func(b *backend.RunBundle)
		want   string
	}{
		{"run id not hex", func(b *backend.RunBundle) { b.Detail.Run.ID = "../../x" }, "is not 32 hex digits"},
		{"parent id", func(b *backend.RunBundle) { b.Detail.Run.ParentID = "abc" }, "parent run id"},
		{"output leaving the workspace", func(b *backend.RunBundle) { b.Detail.Run.Output = "../../../../etc" }, `has a ".." segment`},
		{"absolute output", func(b *backend.RunBundle) { b.Detail.Run.Output = "/etc" }, "is absolute"},
		{"output in .factory", func(b *backend.RunBundle) { b.Detail.Run.Output = ".factory" }, "inside the workspace's .factory/"},
		{"output in blueprints", func(b *backend.RunBundle) { b.Detail.Run.Output = "blueprints/x" }, "inside the workspace's blueprints/"},
		{"file leaving the output", func(b *backend.RunBundle) { b.Detail.Artifacts[0].Path = "../../etc/passwd" }, `has a ".." segment`},
		{"absolute file", func(b *backend.RunBundle) { b.Detail.Artifacts[0].Path = "/etc/passwd" }, "is absolute"},
		{"file of another size", func(b *backend.RunBundle) { b.Detail.Artifacts[0].Size = 1 << 30 }, "does not match the blob"},
		{"span of another run", func(b *backend.RunBundle) { b.Spans[0].TraceID = strings.Repeat("a", 32) }, "belongs to trace"},
		{"blob the record never names", func(b *backend.RunBundle) {
			b.Blobs["2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"] = []byte("foo")
		}, "never names"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := sampleBundle()
			tt.tamper(b)
			_, err := bundle.Read(bytes.NewReader(write(t, b)))
			if err == nil || backend.ErrorCode(err) != backend.EINVALID || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want EINVALID containing %q", err, tt.want)
			}
		})
	}
	b := sampleBundle()
	b.Detail.Run.Output = ".factory/replay/" + strings.Repeat("c", 32)
	if _, err := bundle.Read(bytes.NewReader(write(t, b))); err != nil {
		t.Errorf("a replay's output: %v", err)
	}
}

// FuzzRead feeds arbitrary bytes to the bundle reader: it never panics, and
// anything it does not refuse as EINVALID is a bundle whose record checks
// out.
func FuzzRead(f *testing.F) {
	f.Add(write(f, sampleBundle()))
	for _, data := range bundletest.Bombs() {
		if len(data) < 128<<10 {
			f.Add(data)
		}
	}
	f.Add([]byte{0x1f, 0x8b})
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := bundle.Read(bytes.NewReader(data))
		if err != nil {
			if backend.ErrorCode(err) != backend.EINVALID {
				t.Fatalf("error %v is not EINVALID", err)
			}
			return
		}
		for _, s := range b.Spans {
			if s.TraceID != b.Detail.Run.ID {
				t.Fatalf("span of trace %s in run %s", s.TraceID, b.Detail.Run.ID)
			}
		}
	})
}
