package workspace

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"factorydesk/backend"
)

// GeneratedContent makes mapManifest a backend.Generated.
func (m *mapManifest) GeneratedContent(ctx context.Context, rel string) ([]byte, bool, error) {
	e, ok, _ := m.Base(ctx, rel)
	if !ok {
		return nil, false, nil
	}
	b, err := m.BaseContent(ctx, e.SHA256)
	if err != nil {
		return nil, false, nil
	}
	return b, true, nil
}

const regenBase = "a\nb\nc\nd\ne\nf\ng\nh\n"

func TestMerge(t *testing.T) {
	tests := []struct {
		name      string
		disk      *string // nil: the file is not on disk
		generated bool    // the path has a base (regenBase)
		answer    string
		want      string // the content to write
		parents   bool
		conflict  string // a part of the error; "" for none
	}{
		{name: "unedited file takes the answer", disk: ptr(regenBase), generated: true,
			answer: strings.Replace(regenBase, "g\n", "G\n", 1), want: strings.Replace(regenBase, "g\n", "G\n", 1)},
		{name: "hand edit and answer on different lines are merged", disk: ptr(strings.Replace(regenBase, "b\n", "B by hand\n", 1)),
			generated: true, answer: strings.Replace(regenBase, "g\n", "G\n", 1),
			want: strings.Replace(strings.Replace(regenBase, "b\n", "B by hand\n", 1), "g\n", "G\n", 1), parents: true},
		{name: "the same line conflicts", disk: ptr(strings.Replace(regenBase, "g\n", "g by hand\n", 1)), generated: true,
			answer: strings.Replace(regenBase, "g\n", "G\n", 1), conflict: "merge conflict in main.txt: your edit and the new answer change the same lines"},
		{name: "a file the factory never generated is not overwritten", disk: ptr("mine\n"),
			answer: "theirs\n", conflict: "merge conflict in main.txt"},
		{name: "a binary file on disk cannot be merged", disk: ptr("bin\x00ary\n"), generated: true,
			answer: "text\n", conflict: "not text"},
		{name: "a new file is written", answer: "new\n", want: "new\n"},
		{name: "a deleted generated file is written again", generated: true, answer: "again\n", want: "again\n"},
		{name: "the answer equals the disk", disk: ptr("same\n"), answer: "same\n", want: "same\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root, m := t.TempDir(), newMapManifest()
			if tt.generated {
				m.set("out/main.txt", []byte(regenBase))
			}
			if tt.disk != nil {
				putFile(t, root, "out/main.txt", *tt.disk)
			}
			got, err := Merge(context.Background(), m, Regeneration{Workspace: root, Output: "out", RunID: "run1",
				Files: []backend.File{{Path: "main.txt", Content: []byte(tt.answer)}}})
			if tt.disk != nil {
				if disk, _ := os.ReadFile(filepath.Join(root, "out", "main.txt")); string(disk) != *tt.disk {
					t.Errorf("Merge wrote to the output folder: %q", disk)
				}
			}
			if tt.conflict != "" {
				ce, ok := AsConflict(err)
				if !ok || backend.ErrorCode(err) != backend.ECONFLICT || !strings.Contains(err.Error(), tt.conflict) {
					t.Fatalf("Merge error = %v; want a conflict containing %q", err, tt.conflict)
				}
				kept := filepath.Join(root, filepath.FromSlash(ce.Conflicts[0].File))
				if ce.Conflicts[0].File != ".factory/conflicts/run1/out/main.txt" {
					t.Errorf("conflict file %s", ce.Conflicts[0].File)
				}
				if _, err := os.Stat(kept); err != nil {
					t.Errorf("conflicted version not kept: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got.Files[0].Content) != tt.want {
				t.Errorf("content = %q, want %q", got.Files[0].Content, tt.want)
			}
			if p := got.Parents["main.txt"]; (len(p) == 2) != tt.parents {
				t.Errorf("parents = %v", p)
			}
		})
	}
}

func TestMergeKeepsDiskOnCancel(t *testing.T) {
	root, m := t.TempDir(), newMapManifest()
	m.set("out/main.txt", []byte(regenBase))
	edited := strings.Replace(regenBase, "b\n", "B\n", 1)
	putFile(t, root, "out/main.txt", edited)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Merge(ctx, m, Regeneration{Workspace: root, Output: "out", RunID: "r",
		Files: []backend.File{{Path: "main.txt", Content: []byte("x\n")}}})
	if backend.ErrorCode(err) != backend.ECANCELED {
		t.Fatalf("Merge with a canceled context = %v, want ECANCELED", err)
	}
	if disk, _ := os.ReadFile(filepath.Join(root, "out", "main.txt")); string(disk) != edited {
		t.Errorf("disk = %q", disk)
	}
}

func TestMergePassesRefusedPaths(t *testing.T) {
	root, m := t.TempDir(), newMapManifest()
	files := []backend.File{{Path: "../escape.txt", Content: []byte("x")}, {Path: "/abs", Content: []byte("y")}}
	got, err := Merge(context.Background(), m, Regeneration{Workspace: root, Output: "out", RunID: "r", Files: files})
	if err != nil || len(got.Files) != 2 || got.Files[0].Path != "../escape.txt" {
		t.Fatalf("Merge = %+v, %v; want the files untouched for WriteFiles to refuse", got, err)
	}
}

func TestScanStatFirst(t *testing.T) {
	root, m := t.TempDir(), newMapManifest()
	generate(t, root, m, "out/a.go", "package a\n")
	generate(t, root, m, "out/b.go", "package b\n")
	for _, rel := range []string{"out/a.go", "out/b.go"} {
		fi, err := os.Stat(filepath.Join(root, filepath.FromSlash(rel)))
		if err != nil {
			t.Fatal(err)
		}
		m.mu.Lock()
		e := m.entries[rel]
		e.Size, e.ModTime = fi.Size(), fi.ModTime()
		m.entries[rel] = e
		m.mu.Unlock()
	}
	// a.go: an edit of the same size with a new mtime is found.
	putFile(t, root, "out/a.go", "package x\n")
	later := time.Now().Add(time.Minute)
	if err := os.Chtimes(filepath.Join(root, "out", "a.go"), later, later); err != nil {
		t.Fatal(err)
	}
	drifts, err := Scan(context.Background(), root, m, nil)
	if err != nil || len(drifts) != 1 || drifts[0].Path != "out/a.go" {
		t.Fatalf("Scan = %+v, %v; want out/a.go only", drifts, err)
	}
}

func ptr(s string) *string { return &s }
