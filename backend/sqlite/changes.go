package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"

	"factorydesk/backend"
)

// DefaultChangePoll is how often a ChangeWatcher asks the database for a
// change when the file system reports none (a network file system, or a
// watch that failed).
const DefaultChangePoll = 2 * time.Second

// ChangeWatcher reports commits made to the database by other connections,
// another process's included: SQLite's data_version, read when fsnotify sees
// the database or its write-ahead log written, and every poll interval.
// One goroutine owns its state.
type ChangeWatcher struct {
	c      chan struct{}
	cancel context.CancelFunc
	done   chan struct{}
}

// C receives a value after one or more commits; values do not queue up
// (one pending value stands for any number of commits).
func (w *ChangeWatcher) C() <-chan struct{} { return w.c }

// Close stops the watcher and waits for its goroutine.
func (w *ChangeWatcher) Close() error {
	w.cancel()
	<-w.done
	return nil
}

// WatchChanges starts a ChangeWatcher; poll <= 0 means DefaultChangePoll.
func (d *DB) WatchChanges(poll time.Duration) (*ChangeWatcher, error) {
	if d.rdb == nil {
		return nil, backend.Errorf(backend.EINTERNAL, "database %s is not open", d.Path)
	}
	if poll <= 0 {
		poll = DefaultChangePoll
	}
	ctx, cancel := context.WithCancel(context.Background())
	conn, err := d.rdb.Conn(ctx)
	if err != nil {
		cancel()
		return nil, dbError(err, "open a connection to watch %s", d.Path)
	}
	w := &ChangeWatcher{c: make(chan struct{}, 1), cancel: cancel, done: make(chan struct{})}
	version, err := dataVersion(ctx, conn)
	if err != nil {
		conn.Close()
		cancel()
		return nil, err
	}
	// Without fsnotify the poll alone finds the changes.
	fw, _ := fsnotify.NewWatcher()
	if fw != nil {
		if err := fw.Add(filepath.Dir(d.Path)); err != nil {
			fw.Close()
			fw = nil
		}
	}
	go w.loop(ctx, conn, fw, filepath.Base(d.Path), version, poll)
	return w, nil
}

// loop reads data_version when the database's files are written and on
// every tick, and signals C when it changed.
func (w *ChangeWatcher) loop(ctx context.Context, conn *sql.Conn, fw *fsnotify.Watcher, base string, version int64, poll time.Duration) {
	defer close(w.done)
	defer conn.Close()
	var events <-chan fsnotify.Event
	var errs <-chan error
	if fw != nil {
		defer fw.Close()
		events, errs = fw.Events, fw.Errors
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case e, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			if !strings.HasPrefix(filepath.Base(e.Name), base) {
				continue
			}
		case <-errs:
			continue
		case <-t.C:
		}
		v, err := dataVersion(ctx, conn)
		if err != nil || v == version {
			continue
		}
		version = v
		select {
		case w.c <- struct{}{}:
		default:
		}
	}
}

func dataVersion(ctx context.Context, conn *sql.Conn) (int64, error) {
	var v int64
	err := conn.QueryRowContext(ctx, `PRAGMA data_version`).Scan(&v)
	return v, dbError(err, "read the data version")
}
