package workspace

import (
	"context"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"

	"factorydesk/backend"
)

// Event kinds.
const (
	EventDrift        = "drift"         // a generated file was edited or deleted by hand
	EventDriftCleared = "drift-cleared" // a drifted file is back to its generated content
	EventBlueprint    = "blueprint"     // a blueprint or role file was created, changed or removed
	EventWarning      = "warning"       // something the operator should know: a watch limit, an unreadable file
)

// Event is what the watcher reports. Drift is set for EventDrift only.
type Event struct {
	Kind    string `json:"kind"`
	Path    string `json:"path,omitempty"` // relative to the workspace root, slash-separated
	Drift   *Drift `json:"drift,omitempty"`
	Message string `json:"message,omitempty"`
	Hash    string `json:"hash,omitempty"` // EventBlueprint: the file's sha256 now ("" when removed)
}

// Watcher defaults.
const (
	DefaultDebounce     = 100 * time.Millisecond
	DefaultScanInterval = 2 * time.Second
	// expectTTL is how long an Expect stays valid if the manifest does not
	// catch up with it.
	expectTTL = 10 * time.Minute
)

// WatcherConfig configures a Watcher. Root and Manifest are required.
type WatcherConfig struct {
	Root         string        // the workspace root
	Manifest     Manifest      // the bases of generated files
	Debounce     time.Duration // quiet time after a path's last change before it is checked; default 100ms
	ScanInterval time.Duration // period of the fallback scan when folders cannot all be watched; default 2s
	Logger       *slog.Logger  // default: discard
	Now          func() time.Time
	MaxWatches   int // folders the watcher may watch; 0 means no limit of its own
}

// Watcher watches a workspace recursively and reports hand edits of
// generated files (drift), blueprint changes and warnings on Events. One
// goroutine owns its state; Expect is safe to call from any goroutine.
type Watcher struct {
	cfg    WatcherConfig
	root   string
	log    *slog.Logger
	events chan Event

	expMu    sync.Mutex
	expected map[string]map[string]time.Time // path -> sha256 -> expiry

	lifeMu  sync.Mutex
	started bool
	closed  bool
	cancel  context.CancelFunc
	done    chan struct{}

	// Owned by the goroutine running loop once Start has returned.
	fsw        *fsnotify.Watcher
	watched    map[string]bool   // absolute folders with a watch
	goneDirs   map[string]bool   // relative folders removed or renamed, to check below
	drifted    map[string]string // path -> current sha256 last reported ("" deleted)
	blueprints map[string]string // path -> sha256 of blueprint files
	stats      map[string]fileStat
	fallback   bool
	ticker     *time.Ticker
	pending    *debouncer
	queue      []Event
}

// fileStat is what the fallback scan compares to skip unchanged files.
type fileStat struct {
	exists bool
	size   int64
	mod    time.Time
}

// NewWatcher checks cfg and returns a watcher that does nothing until Start.
func NewWatcher(cfg WatcherConfig) (*Watcher, error) {
	if cfg.Root == "" || cfg.Manifest == nil {
		return nil, backend.Errorf(backend.EINVALID, "a watcher needs a workspace root and a manifest")
	}
	root, err := filepath.Abs(cfg.Root)
	if err != nil {
		return nil, backend.WrapError(backend.EINVALID, err, "bad workspace root %q", cfg.Root)
	}
	if cfg.Debounce <= 0 {
		cfg.Debounce = DefaultDebounce
	}
	if cfg.ScanInterval <= 0 {
		cfg.ScanInterval = DefaultScanInterval
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Watcher{
		cfg:        cfg,
		root:       root,
		log:        cfg.Logger.With("workspace", root),
		events:     make(chan Event, 64),
		expected:   make(map[string]map[string]time.Time),
		watched:    make(map[string]bool),
		goneDirs:   make(map[string]bool),
		drifted:    make(map[string]string),
		blueprints: make(map[string]string),
		stats:      make(map[string]fileStat),
		pending:    newDebouncer(cfg.Debounce),
	}, nil
}

// Events returns the channel of events. It is closed when the watcher stops.
func (w *Watcher) Events() <-chan Event { return w.events }

// Start adds watches on the workspace folders recursively, checks every
// generated file once (reporting the drifts already on disk, so a caller
// need not Scan first), records the blueprints, and starts watching. The
// watcher runs until ctx is canceled or Close is called.
func (w *Watcher) Start(ctx context.Context) error {
	w.lifeMu.Lock()
	defer w.lifeMu.Unlock()
	if w.started || w.closed {
		return backend.Errorf(backend.ECONFLICT, "the watcher of %s is already started or closed", w.root)
	}
	if fi, err := os.Stat(w.root); err != nil || !fi.IsDir() {
		return backend.Errorf(backend.ENOTFOUND, "workspace folder %s does not exist", w.root)
	}
	fsw, err := fsnotify.NewWatcher()
	if err != nil {
		w.enterFallback("cannot start a file watcher: " + err.Error())
	} else {
		w.fsw = fsw
	}
	if err := w.seed(ctx); err != nil {
		if w.fsw != nil {
			w.fsw.Close()
		}
		w.stopTicker()
		return err
	}
	ctx, w.cancel = context.WithCancel(ctx)
	w.done = make(chan struct{})
	w.started = true
	go w.loop(ctx)
	return nil
}

// seed adds the watches, then records the state they will be compared with.
func (w *Watcher) seed(ctx context.Context) error {
	w.addTree(w.root, false)
	entries, err := w.cfg.Manifest.Bases(ctx)
	if err != nil {
		return backend.WrapError(backend.ErrorCode(err), err, "cannot read the manifest of generated files")
	}
	sums := make([]string, len(entries)) // hashed by a pool of workers, then checked here in order
	err = forEach(ctx, len(entries), func(ctx context.Context, i int) error {
		if !watchedEntry(entries[i]) {
			return nil
		}
		name, err := localPath(w.root, entries[i].Path)
		if err != nil {
			return err
		}
		if unchangedStat(name, entries[i]) {
			sums[i] = entries[i].SHA256
			return nil
		}
		sums[i], err = hashFile(name)
		return err
	})
	if err != nil {
		return err
	}
	for i, e := range entries {
		if !watchedEntry(e) {
			continue
		}
		if err := w.checkDriftSum(ctx, e, sums[i]); err != nil {
			return err
		}
	}
	for _, rel := range w.blueprintFiles() {
		sum, err := hashFile(w.abs(rel))
		if err != nil {
			return err
		}
		if sum != "" {
			w.blueprints[rel] = sum
		}
	}
	return nil
}

// Expect tells the watcher the factory itself is about to write path
// (relative to the workspace root, slash-separated) with content of this
// sha256, so that write is not reported as drift (nor, for a blueprint, as
// a blueprint change). The expectation holds until the manifest records that
// content as the path's base, or for ten minutes.
func (w *Watcher) Expect(path, sha256 string) {
	path = cleanRel(path)
	w.expMu.Lock()
	defer w.expMu.Unlock()
	if w.expected[path] == nil {
		w.expected[path] = make(map[string]time.Time)
	}
	w.expected[path][sha256] = w.cfg.Now().Add(expectTTL)
}

// expects reports whether the factory announced writing sum to path.
func (w *Watcher) expects(path, sum string) bool {
	w.expMu.Lock()
	defer w.expMu.Unlock()
	now := w.cfg.Now()
	for s, until := range w.expected[path] {
		if now.After(until) {
			delete(w.expected[path], s)
		}
	}
	_, ok := w.expected[path][sum]
	if len(w.expected[path]) == 0 {
		delete(w.expected, path)
	}
	return ok
}

// settle drops the expectation of sum at path: the manifest has caught up.
func (w *Watcher) settle(path, sum string) {
	w.expMu.Lock()
	defer w.expMu.Unlock()
	if m := w.expected[path]; m != nil {
		delete(m, sum)
		if len(m) == 0 {
			delete(w.expected, path)
		}
	}
}

// Close stops the watcher, waits for its goroutine and closes Events.
func (w *Watcher) Close() error {
	w.lifeMu.Lock()
	defer w.lifeMu.Unlock()
	if w.closed {
		return nil
	}
	w.closed = true
	if !w.started {
		close(w.events)
		return nil
	}
	w.cancel()
	<-w.done
	return nil
}

// cleanRel normalizes a slash-separated relative path.
func cleanRel(rel string) string {
	return strings.TrimPrefix(path.Clean(filepath.ToSlash(rel)), "./")
}

// rel returns the slash-separated path of name relative to the root, or ""
// when name is the root or outside it.
func (w *Watcher) rel(name string) string {
	r, err := filepath.Rel(w.root, name)
	if err != nil || r == "." || !filepath.IsLocal(r) {
		return ""
	}
	return filepath.ToSlash(r)
}

// abs returns the absolute path of the slash-separated rel.
func (w *Watcher) abs(rel string) string {
	return filepath.Join(w.root, filepath.FromSlash(rel))
}

// emit queues an event for the consumer.
func (w *Watcher) emit(e Event) {
	w.queue = append(w.queue, e)
}
