//go:build !unix

package workspace

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"syscall"

	"factorydesk/backend"
)

// hashFile returns the hex sha256 of the file name, "" when it does not exist
// or is not a regular file.
func hashFile(name string) (string, error) {
	f, err := os.Open(name)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return "", nil
	}
	if err != nil {
		return "", backend.WrapError(backend.EINTERNAL, err, "cannot read %s", name)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		return "", nil
	}
	if err == nil && fi.Size() < 64<<10 { // most files: one read, no copy buffer
		b := make([]byte, fi.Size()+1)
		n, err := io.ReadFull(f, b)
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return HashBytes(b[:n]), nil
		}
		if err != nil {
			return "", backend.WrapError(backend.EINTERNAL, err, "cannot read %s", name)
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil { // it grew meanwhile
			return "", backend.WrapError(backend.EINTERNAL, err, "cannot read %s", name)
		}
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", backend.WrapError(backend.EINTERNAL, err, "cannot read %s", name)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
