package save

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"factorydesk/backend"
	"factorydesk/backend/sqlite"
)

// newWorkspace returns a workspace with blueprints/a.md and a real store.
func newWorkspace(t *testing.T) (string, *sqlite.DB) {
	t.Helper()
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "blueprints", "roles"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, root, "blueprints/a.md", base)
	db := sqlite.NewDB(filepath.Join(root, ".factory", "factory.db"))
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return root, db
}

const base = "---\nblueprint: a\ntitle: A\nsteps:\n  - id: x\n    role: r\n---\n# A\n\none\n\ntwo\n\nthree\n"

func writeFile(t *testing.T, root, rel, text string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(root, filepath.FromSlash(rel)), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func fileText(t *testing.T, root, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestSave(t *testing.T) {
	ctx := context.Background()
	root, db := newWorkspace(t)
	s := NewSaver(root, db)
	s.Remember(ctx, []byte(base))

	t.Run("over the version read", func(t *testing.T) {
		text := strings.Replace(base, "title: A", "title: B", 1)
		res, err := s.Save(ctx, "blueprints/a.md", []byte(text), Hash([]byte(base)))
		if err != nil || !res.Saved || res.Hash != Hash([]byte(text)) || fileText(t, root, "blueprints/a.md") != text {
			t.Fatalf("%+v %v", res, err)
		}
	})
	t.Run("stale: refused with a clean merge", func(t *testing.T) {
		disk := fileText(t, root, "blueprints/a.md")
		draft := strings.Replace(base, "three", "THREE", 1) // from the old base
		res, err := s.Save(ctx, "blueprints/a.md", []byte(draft), Hash([]byte(base)))
		if err != nil || res.Saved || res.Conflict == nil {
			t.Fatalf("%+v %v", res, err)
		}
		c := res.Conflict
		if c.Disk != disk || c.DiskHash != Hash([]byte(disk)) || !c.BaseKnown || !c.Clean ||
			!strings.Contains(c.Merged, "title: B") || !strings.Contains(c.Merged, "THREE") {
			t.Errorf("conflict %+v", c)
		}
		if fileText(t, root, "blueprints/a.md") != disk {
			t.Error("the file changed")
		}
	})
	t.Run("stale: a conflicting merge is marked", func(t *testing.T) {
		draft := strings.Replace(base, "title: A", "title: C", 1)
		res, _ := s.Save(ctx, "blueprints/a.md", []byte(draft), Hash([]byte(base)))
		if res.Conflict == nil || res.Conflict.Clean || res.Conflict.Conflicts != 1 ||
			!strings.Contains(res.Conflict.Merged, "<<<<<<< on disk") || !strings.Contains(res.Conflict.Merged, ">>>>>>> draft") {
			t.Errorf("%+v", res.Conflict)
		}
	})
	t.Run("new file", func(t *testing.T) {
		res, err := s.Save(ctx, "blueprints/new.md", []byte(base), "")
		if err != nil || !res.Saved {
			t.Fatalf("%+v %v", res, err)
		}
		res, _ = s.Save(ctx, "blueprints/new.md", []byte(base+"x"), "")
		if res.Saved || res.Conflict == nil || !res.Conflict.DiskExists {
			t.Errorf("a second new file over it: %+v", res)
		}
	})
	t.Run("delete asks for the hash", func(t *testing.T) {
		if _, err := s.Delete(ctx, "blueprints/new.md", ""); backend.ErrorCode(err) != backend.EINVALID {
			t.Errorf("no hash: %v", err)
		}
		res, _ := s.Delete(ctx, "blueprints/new.md", Hash([]byte("other")))
		if res.Saved || res.Conflict == nil {
			t.Errorf("stale delete: %+v", res)
		}
		res, err := s.Delete(ctx, "blueprints/new.md", Hash([]byte(base)))
		if err != nil || !res.Saved {
			t.Fatalf("%+v %v", res, err)
		}
		if _, err := os.Stat(filepath.Join(root, "blueprints", "new.md")); !os.IsNotExist(err) {
			t.Errorf("still there: %v", err)
		}
	})
}

// TestSaveStaysInBlueprints tries to write outside blueprints/.
func TestSaveStaysInBlueprints(t *testing.T) {
	ctx := context.Background()
	root, db := newWorkspace(t)
	outside := t.TempDir()
	if err := os.Symlink(outside, filepath.Join(root, "blueprints", "link")); err != nil {
		t.Fatal(err)
	}
	s := NewSaver(root, db)
	for _, p := range []string{
		"../x.md", "/etc/x.md", "blueprints/../.factory/x.md", ".factory/drafts/x.md", ".git/config.md",
		"out/x.md", "blueprints/a.txt", `blueprints\..\x.md`, "blueprints/link/x.md", "C:/x.md", "",
	} {
		t.Run(p, func(t *testing.T) {
			res, err := s.Save(ctx, p, []byte(base), "")
			if err == nil {
				t.Fatalf("saved: %+v", res)
			}
			if _, err := NewJournal(root, nil).Put(p, []byte("x")); err == nil && p != "blueprints/link/x.md" {
				t.Errorf("journaled %s", p)
			}
		})
	}
	if entries, _ := os.ReadDir(outside); len(entries) > 0 {
		t.Errorf("wrote outside: %v", entries)
	}
}

func TestJournal(t *testing.T) {
	root, _ := newWorkspace(t)
	now := time.Now().Add(time.Hour)
	j := NewJournal(root, func() time.Time { return now })
	draft := strings.Replace(base, "two", "TWO", 1)
	if _, err := j.Put("blueprints/a.md", []byte(draft)); err != nil {
		t.Fatal(err)
	}
	if _, err := j.Put("blueprints/fresh.md", []byte("---\n---\nnew\n")); err != nil {
		t.Fatal(err)
	}
	if _, err := j.Put("blueprints/same.md", []byte(base)); err != nil {
		t.Fatal(err)
	}
	writeFile(t, root, "blueprints/same.md", base)
	list, err := j.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Path != "blueprints/a.md" || list[1].Path != "blueprints/fresh.md" {
		t.Fatalf("drafts %+v", list)
	}
	a := list[0]
	if !a.Newer || a.Text != draft || a.Current != Hash([]byte(base)) || a.DiskHash != a.Current ||
		!strings.Contains(a.Diff, "-two\n+TWO\n") || !strings.Contains(a.Diff, "(draft)") {
		t.Errorf("draft %+v", a)
	}
	if err := j.Discard("blueprints/a.md"); err != nil {
		t.Fatal(err)
	}
	if list, _ = j.List(); len(list) != 1 {
		t.Errorf("after discard: %+v", list)
	}
	now = time.Now().Add(-time.Hour) // a draft older than its file is listed, not newer
	if _, err := j.Put("blueprints/a.md", []byte(draft)); err != nil {
		t.Fatal(err)
	}
	if list, _ = j.List(); len(list) != 2 || list[0].Newer {
		t.Errorf("old draft: %+v", list)
	}
}
