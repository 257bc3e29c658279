//go:build !desktop

package app

import (
	"io/fs"

	"factorydesk/backend"
)

// DesktopAvailable reports whether this build has the desktop window.
const DesktopAvailable = false

// RunDesktop reports that this build has no desktop window.
func RunDesktop(Config, fs.FS) error {
	return backend.Errorf(backend.EUNAVAILABLE, "this build of factory has no desktop window (build it with: make run), use: factory serve")
}
