//go:build unix

package workspace

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"syscall"

	"factorydesk/backend"
)

// hashFile returns the hex sha256 of the file name, "" when it does not exist
// or is not a regular file. It uses raw system calls (open, fstat, read,
// close): an *os.File costs more system calls per file, which shows when a
// scan hashes tens of thousands of small files.
func hashFile(name string) (string, error) {
	fd, err := openRead(name)
	switch {
	case errors.Is(err, syscall.ENOENT), errors.Is(err, syscall.ENOTDIR):
		return "", nil
	case err != nil:
		return "", readError(name, "open", err)
	}
	defer syscall.Close(fd)
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return "", readError(name, "fstat", err)
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFREG {
		return "", nil
	}
	if st.Size < 64<<10 { // most files: one buffer, one hash call
		b := make([]byte, st.Size+1)
		n, err := readFull(fd, b)
		if err != nil {
			return "", readError(name, "read", err)
		}
		if n <= int(st.Size) {
			return HashBytes(b[:n]), nil
		}
		if _, err := syscall.Seek(fd, 0, 0); err != nil { // it grew meanwhile
			return "", readError(name, "seek", err)
		}
	}
	h := sha256.New()
	buf := make([]byte, 64<<10)
	for {
		n, err := readFull(fd, buf)
		if err != nil {
			return "", readError(name, "read", err)
		}
		h.Write(buf[:n])
		if n < len(buf) {
			return hex.EncodeToString(h.Sum(nil)), nil
		}
	}
}

// openRead opens name read-only, retrying when interrupted.
func openRead(name string) (int, error) {
	for {
		fd, err := syscall.Open(name, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if !errors.Is(err, syscall.EINTR) {
			return fd, err
		}
	}
}

// readFull reads into b until it is full or the file ends, and returns how
// many bytes it read.
func readFull(fd int, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := syscall.Read(fd, b[n:])
		switch {
		case errors.Is(err, syscall.EINTR):
			continue
		case err != nil:
			return n, err
		case m == 0:
			return n, nil
		}
		n += m
	}
	return n, nil
}

// readError is the error of a failed read of name.
func readError(name, op string, err error) error {
	return backend.WrapError(backend.EINTERNAL, &os.PathError{Op: op, Path: name, Err: err}, "cannot read %s", name)
}
