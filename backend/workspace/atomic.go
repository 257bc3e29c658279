package workspace

import "os"

// WriteAtomic writes data to rel under r: a temporary file (named so that
// the watcher ignores it) in the same folder, fsync, rename over the
// target, fsync of the folder. A crash leaves the old file or the new one,
// never a mix.
func WriteAtomic(r *os.Root, rel string, data []byte) error { return writeAtomic(r, rel, data) }
