package bundle

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"regexp"
	"strings"

	"factorydesk/backend"
)

// Limits on what a bundle may hold, checked against its manifest before
// any other entry is read, then against every entry as it streams by: a
// small file that expands to gigabytes (a decompression bomb) is refused
// without ever being held.
const (
	MaxManifestBytes = 8 << 20   // the manifest entry
	MaxEntryBytes    = 64 << 20  // any other entry: a blob, the record, the spans
	MaxTotalBytes    = 256 << 20 // every entry together, expanded
	MaxEntries       = 100_000
)

// entrySlack bounds what the tar format adds to each entry (its header, an
// extended header, padding), for the budget of expanded bytes.
const entrySlack = 4 << 10

// blobName matches the name of a blob entry.
var blobName = regexp.MustCompile(`^blobs/[0-9a-f]{64}$`)

// Read reads and checks a bundle. It reads r twice: once to check every
// entry against the manifest (names, sizes, sha256, limits) holding
// nothing, then, when all is well, to keep the entries. A damaged,
// truncated, oversized or foreign file is EINVALID, with what is wrong.
func Read(r io.ReadSeeker) (*backend.RunBundle, error) {
	if _, err := scan(r, false); err != nil {
		return nil, err
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return nil, damaged(err, "it cannot be read again")
	}
	res, err := scan(r, true)
	if err != nil {
		return nil, err
	}
	return decode(res.manifest, res.entries)
}

// scanned is what one pass over a bundle found.
type scanned struct {
	manifest *Manifest
	entries  map[string][]byte // when kept
}

// scan streams the bundle, checking each entry against the manifest, and
// keeps the entries' content when keep is set.
func scan(r io.Reader, keep bool) (*scanned, error) {
	gz, err := gzip.NewReader(r)
	if err != nil {
		return nil, damaged(err, "it is not a gzip'd bundle")
	}
	in := &budget{r: gz, left: MaxManifestBytes + entrySlack}
	tr := tar.NewReader(in)
	m, err := readManifest(tr)
	if err != nil {
		return nil, err
	}
	declared := map[string]Entry{}
	var total int64
	for _, e := range m.Entries {
		declared[e.Name] = e
		total += e.Size
	}
	in.left += total + int64(len(m.Entries))*entrySlack
	res := &scanned{manifest: m, entries: map[string][]byte{}}
	seen := map[string]bool{}
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, damaged(err, "it is cut short, corrupt or larger than its manifest says")
		}
		e, ok := declared[hdr.Name]
		switch {
		case !ok:
			return nil, damaged(nil, "entry %s is not in its manifest", hdr.Name)
		case seen[hdr.Name]:
			return nil, damaged(nil, "entry %s appears twice", hdr.Name)
		case hdr.Typeflag != tar.TypeReg:
			return nil, damaged(nil, "entry %s is not a regular file", hdr.Name)
		case hdr.Size != e.Size:
			return nil, damaged(nil, "entry %s is %d bytes, its manifest says %d", hdr.Name, hdr.Size, e.Size)
		}
		seen[hdr.Name] = true
		data, err := readEntry(tr, e, keep)
		if err != nil {
			return nil, err
		}
		if keep {
			res.entries[e.Name] = data
		}
	}
	// The gzip trailer's CRC is checked once the stream is read to its
	// end, and the budget bounds whatever trails the archive.
	if _, err := io.Copy(io.Discard, in); err != nil {
		return nil, damaged(err, "it is cut short, corrupt or larger than its manifest says")
	}
	if len(seen) != len(declared) {
		for _, e := range m.Entries {
			if !seen[e.Name] {
				return nil, damaged(nil, "entry %s is missing", e.Name)
			}
		}
	}
	return res, nil
}

// readManifest reads and checks the first entry: the manifest, within the
// limits.
func readManifest(tr *tar.Reader) (*Manifest, error) {
	hdr, err := tr.Next()
	if err != nil {
		return nil, damaged(err, "it is cut short or corrupt")
	}
	if hdr.Name != manifestName {
		return nil, damaged(nil, "its first entry is %s, not %s", hdr.Name, manifestName)
	}
	if hdr.Size > MaxManifestBytes {
		return nil, damaged(nil, "its manifest is %d bytes, over the limit of %d", hdr.Size, MaxManifestBytes)
	}
	data, err := io.ReadAll(io.LimitReader(tr, MaxManifestBytes))
	if err != nil {
		return nil, damaged(err, "its manifest is cut short")
	}
	m := &Manifest{}
	if err := json.Unmarshal(data, m); err != nil {
		return nil, damaged(err, "its manifest cannot be read")
	}
	if m.Format != Format {
		return nil, damaged(nil, "its format is %q; this version reads %q", m.Format, Format)
	}
	return m, checkManifest(m)
}

// checkManifest checks the entries a manifest names: known names, each
// once, sizes within the limits.
func checkManifest(m *Manifest) error {
	if len(m.Entries) > MaxEntries {
		return damaged(nil, "its manifest names %d entries, over the limit of %d", len(m.Entries), MaxEntries)
	}
	names := map[string]bool{}
	var total int64
	for _, e := range m.Entries {
		switch e.Name {
		case detailName, blueprintName, rolesName, keysName, spansName:
		default:
			if !blobName.MatchString(e.Name) {
				return damaged(nil, "its manifest names an unknown entry %q", e.Name)
			}
		}
		if names[e.Name] {
			return damaged(nil, "its manifest names %s twice", e.Name)
		}
		names[e.Name] = true
		if e.Size < 0 || e.Size > MaxEntryBytes {
			return damaged(nil, "entry %s is %d bytes, over the limit of %d", e.Name, e.Size, MaxEntryBytes)
		}
		if total += e.Size; total > MaxTotalBytes {
			return damaged(nil, "its entries hold over %d bytes expanded, over the limit", MaxTotalBytes)
		}
	}
	for _, n := range []string{detailName, blueprintName, rolesName, keysName, spansName} {
		if !names[n] {
			return damaged(nil, "entry %s is missing", n)
		}
	}
	return nil
}

// readEntry reads one entry of the size its manifest gives, checks its
// sha256, and returns its content when keep is set.
func readEntry(tr *tar.Reader, e Entry, keep bool) ([]byte, error) {
	h := sha256.New()
	var buf *bytes.Buffer
	w := io.Writer(h)
	if keep {
		buf = bytes.NewBuffer(make([]byte, 0, e.Size))
		w = io.MultiWriter(h, buf)
	}
	if _, err := io.CopyN(w, tr, e.Size); err != nil {
		return nil, damaged(err, "entry %s is cut short", e.Name)
	}
	if hex.EncodeToString(h.Sum(nil)) != e.SHA256 {
		return nil, damaged(nil, "entry %s does not match its sha256 in the manifest", e.Name)
	}
	if !keep {
		return nil, nil
	}
	return buf.Bytes(), nil
}

// budget is a reader that fails once more than left bytes are read.
type budget struct {
	r    io.Reader
	left int64
}

var errOverBudget = errors.New("it expands to more than its manifest declares")

func (b *budget) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, errOverBudget
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	return n, err
}

// decode builds the bundle from its checked entries.
func decode(m *Manifest, entries map[string][]byte) (*backend.RunBundle, error) {
	b := &backend.RunBundle{BlueprintText: entries[blueprintName], Blobs: map[string][]byte{}}
	for name, v := range map[string]any{detailName: &b.Detail, rolesName: &b.Roles, keysName: &b.StepKeys} {
		if err := json.Unmarshal(entries[name], v); err != nil {
			return nil, damaged(err, "%s cannot be read", name)
		}
	}
	dec := json.NewDecoder(bytes.NewReader(entries[spansName]))
	dec.UseNumber()
	if err := dec.Decode(&b.Spans); err != nil {
		return nil, damaged(err, "%s cannot be read", spansName)
	}
	if b.Detail.Run.ID != m.RunID || b.Detail.Run.ID == "" {
		return nil, damaged(nil, "its run %q is not the manifest's %q", b.Detail.Run.ID, m.RunID)
	}
	if hashOf(b.BlueprintText) != b.Detail.Run.BlueprintVersion {
		return nil, damaged(nil, "its blueprint is not version %s", b.Detail.Run.BlueprintVersion)
	}
	for name, data := range entries {
		if h, ok := strings.CutPrefix(name, blobPrefix); ok {
			if hashOf(data) != h {
				return nil, damaged(nil, "blob %s does not match its content", h)
			}
			b.Blobs[h] = data
		}
	}
	return b, validate(b)
}
