// Package workspace keeps generated files and hand edits apart: scoped
// atomic writes, the drift between the manifest of generated files and the
// disk, a recursive watcher that reports hand edits as they happen, and the
// three-way merge used when a step regenerates a hand-edited file.
package workspace

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/pmezard/go-difflib/difflib"

	"factorydesk/backend"
)

// ManifestEntry is the base of a generated file: the content the factory
// last wrote there. Path is relative to the workspace root, slash-separated.
type ManifestEntry struct {
	Path      string    `json:"path"`
	SHA256    string    `json:"sha256"`
	RunID     string    `json:"run_id"`
	StepID    string    `json:"step"`
	Attempt   int       `json:"attempt"`
	UpdatedAt time.Time `json:"updated_at"`
	// Parents are, for a merged file, the hashes of the hand-edited content
	// and of the new answer it was merged from.
	Parents []string `json:"parents,omitempty"`
	// Size and ModTime are the file's just after the factory wrote it (Size
	// -1 when unknown): a scan does not hash a file that still has both.
	Size    int64     `json:"size"`
	ModTime time.Time `json:"mtime,omitzero"`
}

// Manifest is where the bases of generated files are recorded; the store
// implements it. Base reports false when path was never generated;
// BaseContent returns an *backend.Error with code ENOTFOUND when the content
// of that hash is not kept.
type Manifest interface {
	Bases(ctx context.Context) ([]ManifestEntry, error)
	Base(ctx context.Context, path string) (ManifestEntry, bool, error)
	BaseContent(ctx context.Context, sha256 string) ([]byte, error)
}

// Drift is a generated file changed or deleted outside the factory.
type Drift struct {
	Path          string    `json:"path"`
	BaseSHA256    string    `json:"base_sha256"`
	CurrentSHA256 string    `json:"current_sha256"` // "" when deleted
	Deleted       bool      `json:"deleted,omitempty"`
	Diff          string    `json:"diff"` // unified diff base -> current
	SeenAt        time.Time `json:"seen_at"`
}

// maxDiffBytes bounds the size of a file whose diff is computed.
const maxDiffBytes = 1 << 20

// Scan compares every manifest entry with the disk under root and returns
// the drifts, in manifest order. It is the startup scan: it finds the edits
// made while nothing was watching. Files are checked by a bounded pool of
// workers; a file whose size and mtime are still those recorded when the
// factory wrote it is not read.
func Scan(ctx context.Context, root string, m Manifest, now func() time.Time) ([]Drift, error) {
	if now == nil {
		now = time.Now
	}
	entries, err := m.Bases(ctx)
	if err != nil {
		return nil, backend.WrapError(backend.ErrorCode(err), err, "cannot read the manifest of generated files")
	}
	found := make([]*Drift, len(entries))
	err = forEach(ctx, len(entries), func(ctx context.Context, i int) error {
		d, drifted, err := checkEntry(ctx, root, m, entries[i], now)
		if drifted {
			found[i] = &d
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	var drifts []Drift
	for _, d := range found {
		if d != nil {
			drifts = append(drifts, *d)
		}
	}
	return drifts, nil
}

// forEach calls fn for 0..n-1 from a bounded pool of goroutines and returns
// the first error (or ECANCELED), after which no new call starts.
func forEach(ctx context.Context, n int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	fail := func(err error) {
		errOnce.Do(func() { firstErr = err; cancel() })
	}
	for range min(scanWorkers(), n) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := ctx.Err(); err != nil {
					fail(backend.WrapError(backend.ECANCELED, err, "drift scan canceled"))
					return
				}
				if err := fn(ctx, i); err != nil {
					fail(err)
					return
				}
			}
		})
	}
	wg.Wait()
	return firstErr
}

// scanWorkers is how many files a scan checks at once: hashing is CPU-bound
// and opening files waits on the disk, so a few more than the CPUs.
func scanWorkers() int { return 4 * runtime.GOMAXPROCS(0) }

// checkEntry compares one manifest entry with the disk.
func checkEntry(ctx context.Context, root string, m Manifest, e ManifestEntry, now func() time.Time) (Drift, bool, error) {
	name, err := localPath(root, e.Path)
	if err != nil {
		return Drift{}, false, err
	}
	if unchangedStat(name, e) {
		return Drift{}, false, nil
	}
	sum, err := hashFile(name)
	if err != nil {
		return Drift{}, false, err
	}
	if sum == e.SHA256 {
		return Drift{}, false, nil
	}
	d, err := newDrift(ctx, name, m, e, sum, now())
	return d, err == nil, err
}

// unchangedStat reports whether the file name still has the size and mtime
// recorded just after the factory wrote it, so it need not be hashed.
func unchangedStat(name string, e ManifestEntry) bool {
	if e.Size < 0 || e.ModTime.IsZero() {
		return false
	}
	fi, err := os.Stat(name)
	return err == nil && fi.Mode().IsRegular() && fi.Size() == e.Size && fi.ModTime().Equal(e.ModTime)
}

// newDrift builds the drift of entry e whose file name now hashes to sum
// ("" when the file is gone), with its diff.
func newDrift(ctx context.Context, name string, m Manifest, e ManifestEntry, sum string, seen time.Time) (Drift, error) {
	d := Drift{Path: e.Path, BaseSHA256: e.SHA256, CurrentSHA256: sum, Deleted: sum == "", SeenAt: seen}
	base, err := m.BaseContent(ctx, e.SHA256)
	if backend.ErrorCode(err) == backend.ENOTFOUND {
		d.Diff = "" // the base content is not kept: nothing to compare with
		return d, nil
	}
	if err != nil {
		return Drift{}, backend.WrapError(backend.ErrorCode(err), err, "cannot read the generated content of %s", e.Path)
	}
	var cur []byte
	if !d.Deleted {
		if cur, err = readLimited(name, maxDiffBytes+1); err != nil {
			return Drift{}, err
		}
	}
	d.Diff = Diff(e.Path, base, cur)
	return d, nil
}

// Diff returns the unified diff from base (the generated content) to current
// (the content on disk) of the file at path, with three lines of context.
// Binary or very large files get a one-line summary instead.
func Diff(path string, base, current []byte) string {
	return DiffLabeled(path, base, current, "generated", "on disk")
}

// DiffLabeled is Diff with the two versions named by from and to.
func DiffLabeled(path string, base, current []byte, from, to string) string {
	switch {
	case len(base) > maxDiffBytes || len(current) > maxDiffBytes:
		return fmt.Sprintf("%s: file too large to show a diff (over %d bytes)\n", path, maxDiffBytes)
	case binary(base) || binary(current):
		return fmt.Sprintf("Binary files a/%s and b/%s differ\n", path, path)
	}
	ud := difflib.UnifiedDiff{
		A:        splitLines(base),
		B:        splitLines(current),
		FromFile: "a/" + path + " (" + from + ")",
		ToFile:   "b/" + path + " (" + to + ")",
		Context:  3,
	}
	s, err := difflib.GetUnifiedDiffString(ud)
	if err != nil { // writes to a strings.Builder do not fail
		return ""
	}
	return s
}

// splitLines splits b into lines that each end with a newline (one is
// added to a last line without it).
func splitLines(b []byte) []string {
	if len(b) == 0 {
		return nil
	}
	lines := strings.SplitAfter(string(b), "\n")
	if last := lines[len(lines)-1]; last == "" {
		lines = lines[:len(lines)-1]
	} else {
		lines[len(lines)-1] = last + "\n"
	}
	return lines
}

// binary reports whether b looks like binary content.
func binary(b []byte) bool {
	head := b
	if len(head) > 8000 {
		head = head[:8000-utf8.UTFMax] // do not cut a rune in two
	}
	return bytes.IndexByte(head, 0) >= 0 || !utf8.Valid(head)
}

// HashBytes returns the hex sha256 of b, the form manifest entries use.
func HashBytes(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// readLimited reads at most limit bytes of the file name; a missing file
// reads as empty.
func readLimited(name string, limit int64) ([]byte, error) {
	f, err := os.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, backend.WrapError(backend.EINTERNAL, err, "cannot read %s", name)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit))
	if err != nil {
		return nil, backend.WrapError(backend.EINTERNAL, err, "cannot read %s", name)
	}
	return b, nil
}

// localPath joins root and the slash-separated rel, refusing a rel that
// leaves root.
func localPath(root, rel string) (string, error) {
	p := filepath.FromSlash(rel)
	if !filepath.IsLocal(p) {
		return "", backend.Errorf(backend.EINVALID, "manifest path %q is not inside the workspace", rel)
	}
	return filepath.Join(root, p), nil
}
