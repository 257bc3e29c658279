package workspace

import (
	"bytes"
	"context"
	"fmt"
	"math/rand"
	"strings"
	"sync"
	"testing"

	"factorydesk/backend"
)

func TestMerge3(t *testing.T) {
	base := "package orders\n\nconst A = 1\n\nconst B = 2\n\nconst C = 3\n\nconst D = 4\n"
	tests := []struct {
		name         string
		ours, theirs string
		clean        bool
		want         string   // the merged content, when clean
		wantContains []string // in the content, when conflicting
	}{
		{
			name:   "hand edit and regeneration apart: both kept",
			ours:   strings.Replace(base, "const A = 1", "const A = 100 // tuned by hand", 1),
			theirs: strings.Replace(base, "const D = 4", "const D = 40", 1),
			clean:  true,
			want:   "package orders\n\nconst A = 100 // tuned by hand\n\nconst B = 2\n\nconst C = 3\n\nconst D = 40\n",
		},
		{
			name:   "nothing regenerated differently",
			ours:   strings.Replace(base, "const B = 2", "const B = 22", 1),
			theirs: base,
			clean:  true,
			want:   strings.Replace(base, "const B = 2", "const B = 22", 1),
		},
		{
			name:   "same line changed on both sides: conflict",
			ours:   strings.Replace(base, "const B = 2", "const B = 20 // by hand", 1),
			theirs: strings.Replace(base, "const B = 2", "const B = 21", 1),
			wantContains: []string{
				"<<<<<<< yours\nconst B = 20 // by hand\n",
				"||||||| generated\nconst B = 2\n",
				"=======\nconst B = 21\n",
				">>>>>>> new\n",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Merge3(context.Background(), []byte(base), []byte(tt.ours), []byte(tt.theirs))
			if err != nil {
				t.Fatal(err)
			}
			if res.Clean != tt.clean || (res.Conflicts == 0) != tt.clean {
				t.Fatalf("clean = %v with %d conflicts, want clean = %v", res.Clean, res.Conflicts, tt.clean)
			}
			if tt.clean && string(res.Content) != tt.want {
				t.Errorf("merged:\n%s\nwant:\n%s", res.Content, tt.want)
			}
			for _, s := range tt.wantContains {
				if !bytes.Contains(res.Content, []byte(s)) {
					t.Errorf("conflict content lacks %q:\n%s", s, res.Content)
				}
			}
		})
	}
}

func TestMerge3Errors(t *testing.T) {
	t.Run("git missing", func(t *testing.T) {
		t.Setenv("PATH", t.TempDir())
		_, err := Merge3(context.Background(), []byte("a\n"), []byte("b\n"), []byte("c\n"))
		if backend.ErrorCode(err) != backend.EUNAVAILABLE || !strings.Contains(err.Error(), "apt-get install git") {
			t.Fatalf("err = %v, want %s telling how to install git", err, backend.EUNAVAILABLE)
		}
	})
	t.Run("binary", func(t *testing.T) {
		_, err := Merge3(context.Background(), []byte("a\x00"), []byte("b\x00"), []byte("c\x00"))
		if backend.ErrorCode(err) != backend.EINVALID {
			t.Fatalf("err = %v, want %s", err, backend.EINVALID)
		}
	})
	t.Run("canceled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := Merge3(ctx, []byte("a\n"), []byte("b\n"), []byte("c\n"))
		if backend.ErrorCode(err) != backend.ECANCELED {
			t.Fatalf("err = %v, want %s", err, backend.ECANCELED)
		}
	})
}

// TestMerge3Property merges random hand edits with random regenerations of
// the same file: a clean merge keeps every hand-edited line; otherwise the
// merge reports conflicts, with markers, and the caller leaves disk alone.
func TestMerge3Property(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	cases := make([]mergeCase, 200)
	for i := range cases {
		base := make([]string, 10+rng.Intn(30))
		for j := range base {
			base[j] = fmt.Sprintf("line %d", j)
		}
		ours, hand := editLines(rng, base, "hand", true)
		theirs, _ := editLines(rng, base, "gen", false)
		cases[i] = mergeCase{base: joinLines(base), ours: joinLines(ours), theirs: joinLines(theirs), hand: hand}
	}
	// Merges run a process each: run a few at once, check in order.
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i := range cases {
		wg.Add(1)
		sem <- struct{}{}
		go func(c *mergeCase) {
			defer func() { <-sem; wg.Done() }()
			c.res, c.err = Merge3(context.Background(), c.base, c.ours, c.theirs)
		}(&cases[i])
	}
	wg.Wait()
	clean, conflicts := 0, 0
	for i, c := range cases {
		if c.err != nil {
			t.Fatalf("iteration %d: %v", i, c.err)
		}
		if !c.res.Clean {
			conflicts++
			if c.res.Conflicts == 0 || !bytes.Contains(c.res.Content, []byte("<<<<<<< yours")) {
				t.Fatalf("iteration %d: a conflict without markers: %+v", i, c.res)
			}
			continue
		}
		clean++
		merged := "\n" + string(c.res.Content)
		for _, line := range c.hand {
			if !strings.Contains(merged, "\n"+line+"\n") {
				t.Fatalf("iteration %d: clean merge lost the hand-edited line %q:\nbase:\n%s\nours:\n%s\ntheirs:\n%s\nmerged:\n%s",
					i, line, c.base, c.ours, c.theirs, c.res.Content)
			}
		}
	}
	if clean == 0 || conflicts == 0 {
		t.Fatalf("%d clean merges and %d conflicts: the random edits do not cover both outcomes", clean, conflicts)
	}
	t.Logf("%d clean merges, %d conflicts", clean, conflicts)
}

// mergeCase is one random merge of the property test and its outcome.
type mergeCase struct {
	base, ours, theirs []byte
	hand               []string // the hand-edited lines
	res                MergeResult
	err                error
}

// editLines changes, inserts and (unless keepAll) deletes a few random lines
// of base, and returns the new lines and the changed or inserted ones.
func editLines(rng *rand.Rand, base []string, tag string, keepAll bool) ([]string, []string) {
	out := append([]string(nil), base...)
	var edited []string
	for k := range 1 + rng.Intn(3) {
		j := rng.Intn(len(out))
		line := fmt.Sprintf("%s edit %d", tag, k)
		switch op := rng.Intn(3); {
		case op == 0:
			out[j] = line
		case op == 1 || keepAll:
			out = append(out[:j], append([]string{line}, out[j:]...)...)
		default:
			out = append(out[:j], out[j+1:]...)
			continue
		}
		edited = append(edited, line)
	}
	// A later edit may have replaced an earlier one: keep only lines still there.
	var kept []string
	for _, line := range edited {
		for _, o := range out {
			if o == line {
				kept = append(kept, line)
				break
			}
		}
	}
	return out, kept
}

// joinLines joins lines with a newline after each.
func joinLines(lines []string) []byte {
	return []byte(strings.Join(lines, "\n") + "\n")
}
