package edit

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"factorydesk/backend"
)

// corpus returns the corpus files: name to bytes.
func corpus(t testing.TB) map[string][]byte {
	t.Helper()
	paths, err := filepath.Glob("testdata/corpus/*.md")
	if err != nil || len(paths) < 60 {
		t.Fatalf("corpus: %d files, %v", len(paths), err)
	}
	out := map[string][]byte{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(p)] = b
	}
	return out
}

// kindOfCorpus returns the kind of a corpus file: roles are named role-*.
func kindOfCorpus(name string) Kind {
	if strings.HasPrefix(name, "role-") {
		return KindRole
	}
	return KindBlueprint
}

// TestRoundTrip opens every corpus file and saves it with no edit, and
// with edits that change nothing: the bytes stay identical.
func TestRoundTrip(t *testing.T) {
	for name, src := range corpus(t) {
		t.Run(name, func(t *testing.T) {
			kind := kindOfCorpus(name)
			d, err := Open(kind, src)
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			if !bytes.Equal(d.Bytes(), src) {
				t.Fatal("open changed the bytes")
			}
			out, err := Apply(kind, src, nil, Options{})
			if err != nil || !bytes.Equal(out, src) {
				t.Fatalf("no edit: %v, changed %v", err, !bytes.Equal(out, src))
			}
			model := d.plainModel()
			var same []Op
			for k, v := range model {
				if k == "steps" {
					continue
				}
				same = append(same, Op{Op: "set", Key: k, Value: clone(v)})
			}
			for _, st := range steps(model) {
				m, ok := st.(map[string]any)
				if !ok {
					continue
				}
				for k, v := range m {
					if k != "id" && scalarText(m["id"]) != "" && !strings.Contains(scalarText(m["id"]), ".") {
						same = append(same, Op{Op: "set", Key: "steps." + scalarText(m["id"]) + "." + k, Value: clone(v)})
					}
				}
			}
			out, err = Apply(kind, src, same, Options{AllowProblems: true})
			if err != nil {
				t.Fatalf("edits that change nothing: %v", err)
			}
			if !bytes.Equal(out, src) {
				t.Fatalf("edits that change nothing changed:\n%s", diffLines(string(src), string(out)))
			}
		})
	}
}

// TestCorpusParses checks every corpus file reads as its linter reads it,
// so that the edits below work on real models.
func TestCorpusParses(t *testing.T) {
	for name, src := range corpus(t) {
		r := ValidateDraft(map[Kind]string{KindRole: "blueprints/roles/" + name, KindBlueprint: "blueprints/" + name}[kindOfCorpus(name)], src, nil)
		if r.Partial {
			t.Errorf("%s: did not parse: %v", name, backend.Diagnostics(r.Diagnostics))
		}
	}
}
