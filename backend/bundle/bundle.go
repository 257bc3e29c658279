// Package bundle writes a recorded run to one file and reads it back: a
// gzip'd tar holding a manifest (the format, the run id, and the name, size
// and sha256 of every other entry), the run's record, the blueprint version
// it ran, its roles, cache keys and spans, and every blob they name. Read
// checks every entry against the manifest, so a damaged or truncated file
// is refused before anything is imported.
package bundle

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"time"

	"factorydesk/backend"
)

// Format names the bundle format in its manifest.
const Format = "factory-run-bundle/1"

// Entry names inside a bundle.
const (
	manifestName  = "manifest.json"
	detailName    = "run.json"
	blueprintName = "blueprint.md"
	rolesName     = "roles.json"
	keysName      = "step_keys.json"
	spansName     = "spans.json"
	blobPrefix    = "blobs/"
)

// Manifest is the first entry of a bundle.
type Manifest struct {
	Format  string    `json:"format"`
	RunID   string    `json:"run_id"`
	Created time.Time `json:"created"`
	Entries []Entry   `json:"entries"`
}

// Entry is one file of a bundle.
type Entry struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Source is what a bundle is made from; *sqlite.DB is one.
type Source interface {
	backend.Store
	backend.ReuseStore
	Spans(ctx context.Context, traceID string) ([]backend.Span, error)
}

// Collect gathers everything recorded about a run (id or unique prefix).
func Collect(ctx context.Context, src Source, id string) (*backend.RunBundle, error) {
	d, err := src.Run(ctx, id)
	if err != nil {
		return nil, err
	}
	b := &backend.RunBundle{Detail: *d, Blobs: map[string][]byte{}}
	runID := d.Run.ID
	if b.BlueprintText, err = src.BlueprintVersion(ctx, d.Run.BlueprintVersion); err != nil {
		return nil, err
	}
	if b.Roles, err = src.RunRoles(ctx, runID); err != nil {
		return nil, err
	}
	keys, err := src.StepKeys(ctx, runID)
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		b.StepKeys = append(b.StepKeys, k)
	}
	sort.Slice(b.StepKeys, func(i, j int) bool { return b.StepKeys[i].StepID < b.StepKeys[j].StepID })
	if b.Spans, err = src.Spans(ctx, runID); err != nil {
		return nil, err
	}
	var hashes []string
	for _, c := range d.Calls {
		hashes = append(hashes, c.PromptHash, c.AnswerHash)
	}
	for _, u := range d.Tools {
		hashes = append(hashes, u.ArgsHash, u.ResultHash)
	}
	for _, a := range d.Artifacts {
		hashes = append(hashes, a.SHA256)
	}
	for _, h := range b.Roles {
		hashes = append(hashes, h)
	}
	for _, h := range hashes {
		if h == "" || b.Blobs[h] != nil {
			continue
		}
		if b.Blobs[h], err = src.Blob(ctx, h); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// Write writes b as a bundle to w.
func Write(w io.Writer, b *backend.RunBundle, now time.Time) error {
	entries := map[string][]byte{blueprintName: b.BlueprintText}
	for name, v := range map[string]any{detailName: b.Detail, rolesName: b.Roles, keysName: b.StepKeys, spansName: b.Spans} {
		data, err := json.Marshal(v)
		if err != nil {
			return backend.WrapError(backend.EINTERNAL, err, "encode %s of run %s", name, b.Detail.Run.ID)
		}
		entries[name] = data
	}
	for h, data := range b.Blobs {
		entries[blobPrefix+h] = data
	}
	names := make([]string, 0, len(entries))
	for n := range entries {
		names = append(names, n)
	}
	sort.Strings(names)
	m := Manifest{Format: Format, RunID: b.Detail.Run.ID, Created: now.UTC()}
	for _, n := range names {
		m.Entries = append(m.Entries, Entry{Name: n, Size: int64(len(entries[n])), SHA256: hashOf(entries[n])})
	}
	md, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return backend.WrapError(backend.EINTERNAL, err, "encode the bundle manifest")
	}
	gz := gzip.NewWriter(w)
	tw := tar.NewWriter(gz)
	put := func(name string, data []byte) error {
		hdr := &tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), ModTime: m.Created, Format: tar.FormatPAX}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	if err := put(manifestName, md); err != nil {
		return backend.WrapError(backend.EINTERNAL, err, "write the bundle")
	}
	for _, n := range names {
		if err := put(n, entries[n]); err != nil {
			return backend.WrapError(backend.EINTERNAL, err, "write the bundle")
		}
	}
	if err := tw.Close(); err != nil {
		return backend.WrapError(backend.EINTERNAL, err, "write the bundle")
	}
	return wrapWrite(gz.Close())
}

func wrapWrite(err error) error {
	if err == nil {
		return nil
	}
	return backend.WrapError(backend.EINTERNAL, err, "write the bundle")
}

// damaged is the EINVALID error of a bundle that cannot be imported.
func damaged(err error, format string, args ...any) error {
	msg := "the bundle is damaged and was not imported: " + fmt.Sprintf(format, args...)
	if err != nil {
		return backend.WrapError(backend.EINVALID, err, "%s", msg)
	}
	return backend.Errorf(backend.EINVALID, "%s", msg)
}

func hashOf(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}
