// Package bundletest makes hostile run bundles for tests: small files that
// expand to gigabytes (decompression bombs), built without ever holding
// what they expand to.
package bundletest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"strings"

	"factorydesk/backend/bundle"
)

// mib is one gzip member of 1 MiB of zeros (about 1 KB): members in a row
// are one stream to a gzip reader, so n of them expand to n MiB.
var mib = member(make([]byte, 1<<20))

// member returns data as one gzip member.
func member(data []byte) []byte {
	var buf bytes.Buffer
	w, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	_, _ = w.Write(data)
	_ = w.Close()
	return buf.Bytes()
}

// header returns the tar header block of an entry of size bytes.
func header(name string, size int64) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	_ = tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: size, Typeflag: tar.TypeReg, Format: tar.FormatUSTAR})
	return buf.Bytes()
}

// padded returns data padded to the tar block size.
func padded(data []byte) []byte {
	if r := len(data) % 512; r != 0 {
		data = append(data, make([]byte, 512-r)...)
	}
	return data
}

// zeros returns n MiB of zeros as gzip members.
func zeros(n int) []byte { return bytes.Repeat(mib, n) }

// manifest returns the first entry of a bundle naming entries.
func manifest(entries ...bundle.Entry) []byte {
	m := bundle.Manifest{Format: bundle.Format, RunID: strings.Repeat("b", 32), Entries: entries}
	data, _ := json.Marshal(m)
	return append(header("manifest.json", int64(len(data))), padded(data)...)
}

// zeroSHA is the sha256 of an empty entry.
const zeroSHA = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// required are the entries every bundle has, here all empty, in a row.
func required(except string) ([]bundle.Entry, []byte) {
	var entries []bundle.Entry
	var tarred []byte
	for _, name := range []string{"blueprint.md", "roles.json", "spans.json", "step_keys.json", "run.json"} {
		if name != except {
			entries = append(entries, bundle.Entry{Name: name, SHA256: zeroSHA})
			tarred = append(tarred, header(name, 0)...)
		}
	}
	return entries, tarred
}

// Bombs returns bundles of about 1 MB that each expand to about 1 GiB (the
// last to 64 MiB), by what they try: an entry the manifest does not name,
// an entry far larger than its manifest says, a manifest naming a huge
// entry, gigabytes of zeros after a small archive, and an entry of the
// size its manifest says whose content is not what the manifest hashed.
func Bombs() map[string][]byte {
	const n = 1024 // MiB expanded
	all, tarred := required("")
	some, someTarred := required("run.json")
	return map[string][]byte{
		"an entry its manifest does not name": concat(member(manifest(all...)), member(tarred),
			member(header("blobs/"+strings.Repeat("0", 64), n<<20)), zeros(n)),
		"an entry larger than its manifest says": concat(member(manifest(all...)), member(someTarred),
			member(header("run.json", n<<20)), zeros(n)),
		"a manifest naming a gigabyte": concat(member(manifest(append(some, bundle.Entry{Name: "run.json", Size: n << 20, SHA256: zeroSHA})...)),
			member(someTarred), member(header("run.json", n<<20)), zeros(n)),
		"zeros after the archive": concat(member(manifest(all...)), member(tarred), zeros(n)),
		"an entry that is not what its manifest hashed": concat(member(manifest(append(some, bundle.Entry{Name: "run.json", Size: 64 << 20, SHA256: zeroSHA})...)),
			member(someTarred), member(header("run.json", 64<<20)), zeros(64)),
	}
}

func concat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
