// Package sqlite implements backend.Store on one SQLite file per workspace.
//
// The database runs in WAL mode with foreign keys on. Writes go through one
// connection per DB and begin with BEGIN IMMEDIATE, so several factory
// processes can share one file: a writer waits (up to the busy timeout) for
// another instead of failing with "database is locked". Reads use a separate
// pool of read-only connections and never block writers. Every exported method
// is one transaction.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/mattn/go-sqlite3"

	"factorydesk/backend"
)

//go:embed migration/*.sql
var migrationFS embed.FS

// BusyTimeout is how long a write waits for another writer before it fails.
const BusyTimeout = 10 * time.Second

// Compile-time check that DB implements backend.Store.
var _ backend.Store = (*DB)(nil)

// DB is the SQLite store of one workspace.
type DB struct {
	db   *sql.DB // writes: one connection, BEGIN IMMEDIATE
	rdb  *sql.DB // reads: read-only connections, deferred transactions
	host string

	// Path is the database file, usually <workspace>/.factory/factory.db.
	Path string

	// Now returns the current time; tests replace it.
	Now func() time.Time
}

// NewDB returns a DB for the file at path. Call Open before use.
func NewDB(path string) *DB {
	return &DB{Path: path, Now: time.Now}
}

// Open creates the parent folder if needed, opens the database and applies
// the migrations it lacks.
func (d *DB) Open() error {
	if d.Path == "" {
		return backend.Errorf(backend.EINVALID, "database path is empty")
	}
	if d.db != nil {
		return backend.Errorf(backend.ECONFLICT, "database %s is already open", d.Path)
	}
	abs, err := filepath.Abs(d.Path)
	if err != nil {
		return backend.WrapError(backend.EINVALID, err, "database path %q", d.Path)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
		return backend.WrapError(backend.EINTERNAL, err, "create the folder of database %s", abs)
	}
	d.host, _ = os.Hostname()

	w, err := openWriter(abs, d.now)
	if err != nil {
		return err
	}
	r, err := openPool(abs, "_txlock=deferred&_query_only=1", max(4, runtime.GOMAXPROCS(0)))
	if err != nil {
		w.Close()
		return err
	}
	d.db, d.rdb = w, r
	return nil
}

// openWriter opens the write pool and migrates the database. Processes
// opening a new database at the same moment race to switch it to WAL and to
// migrate it, and SQLite answers some of them "busy" at once rather than
// waiting (to avoid a deadlock); those try again, for up to BusyTimeout.
func openWriter(abs string, now func() time.Time) (*sql.DB, error) {
	deadline := time.Now().Add(BusyTimeout)
	for wait := 5 * time.Millisecond; ; wait = min(2*wait, 200*time.Millisecond) {
		w, err := openPool(abs, "_txlock=immediate&_journal_mode=WAL&_foreign_keys=on&_synchronous=NORMAL", 1)
		if err == nil {
			if err = migrate(context.Background(), w, now()); err == nil {
				return w, nil
			}
			w.Close()
		}
		var se sqlite3.Error
		busy := errors.As(err, &se) && (se.Code == sqlite3.ErrBusy || se.Code == sqlite3.ErrLocked)
		if !busy || time.Now().After(deadline) {
			return nil, err
		}
		time.Sleep(wait)
	}
}

// openPool opens a *sql.DB on the file with the common and the given DSN
// parameters, limited to n connections, and checks that it answers.
func openPool(abs, params string, n int) (*sql.DB, error) {
	p := filepath.ToSlash(abs)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // a Windows drive letter
	}
	u := url.URL{Scheme: "file", Path: p}
	dsn := fmt.Sprintf("%s?_busy_timeout=%d&%s", u.String(), BusyTimeout.Milliseconds(), params)
	db, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return nil, backend.WrapError(backend.EINTERNAL, err, "open database %s", abs)
	}
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	db.SetConnMaxLifetime(0)
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, dbError(err, "open database %s", abs)
	}
	return db, nil
}

// Close optimizes the query planner statistics and closes the database.
// Closing a DB that is not open does nothing.
func (d *DB) Close() error {
	if d.db == nil {
		return nil
	}
	var errs []error
	if _, err := d.db.Exec(`PRAGMA optimize`); err != nil {
		errs = append(errs, dbError(err, "optimize database %s", d.Path))
	}
	errs = append(errs, d.rdb.Close(), d.db.Close())
	d.db, d.rdb = nil, nil
	return errors.Join(errs...)
}

// migrate applies, in name order, each embedded migration not yet recorded
// in the migrations table, each in its own transaction.
func migrate(ctx context.Context, db *sql.DB, now time.Time) error {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS migrations (
		name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
		return dbError(err, "create the migrations table")
	}
	names, err := fs.Glob(migrationFS, "migration/*.sql")
	if err != nil {
		return backend.WrapError(backend.EINTERNAL, err, "list migrations")
	}
	sort.Strings(names)
	for _, name := range names {
		if err := migrateFile(ctx, db, name, now); err != nil {
			return err
		}
	}
	return nil
}

// migrateFile applies one migration unless it is already recorded.
func migrateFile(ctx context.Context, db *sql.DB, name string, now time.Time) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return dbError(err, "begin migration %s", name)
	}
	defer tx.Rollback()

	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM migrations WHERE name = ?`, name).Scan(&n); err != nil {
		return dbError(err, "check migration %s", name)
	}
	if n > 0 {
		return nil
	}
	text, err := fs.ReadFile(migrationFS, name)
	if err != nil {
		return backend.WrapError(backend.EINTERNAL, err, "read migration %s", name)
	}
	if _, err := tx.ExecContext(ctx, string(text)); err != nil {
		return dbError(err, "apply migration %s", name)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO migrations (name, applied_at) VALUES (?, ?)`, name, toNS(now)); err != nil {
		return dbError(err, "record migration %s", name)
	}
	return dbError(tx.Commit(), "commit migration %s", name)
}

// now returns the injected clock's time.
func (d *DB) now() time.Time {
	if d.Now == nil {
		return time.Now()
	}
	return d.Now()
}

// batchKey is the context key of a batch's transaction on one DB.
type batchKey struct{ d *DB }

// Batch runs fn with a ctx whose writes to d all join one write
// transaction, committed when fn returns nil and rolled back otherwise: one
// commit, and one hold of the write lock, for many small records.
func (d *DB) Batch(ctx context.Context, fn func(ctx context.Context) error) error {
	return d.write(ctx, func(tx *sql.Tx) error {
		return fn(context.WithValue(ctx, batchKey{d}, tx))
	})
}

// write runs fn in one write transaction (BEGIN IMMEDIATE), or in the
// batch's transaction when ctx carries one (see Batch).
func (d *DB) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if d.db == nil {
		return backend.Errorf(backend.EINTERNAL, "database %s is not open", d.Path)
	}
	if tx, ok := ctx.Value(batchKey{d}).(*sql.Tx); ok {
		return fn(tx)
	}
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return dbError(err, "begin a write to %s", d.Path)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return dbError(tx.Commit(), "commit a write to %s", d.Path)
}

// read runs fn in one read transaction, which sees one snapshot.
func (d *DB) read(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if d.rdb == nil {
		return backend.Errorf(backend.EINTERNAL, "database %s is not open", d.Path)
	}
	tx, err := d.rdb.BeginTx(ctx, nil)
	if err != nil {
		return dbError(err, "begin a read of %s", d.Path)
	}
	defer tx.Rollback()
	return fn(tx)
}

// dbError wraps a database error into a *backend.Error with a code chosen
// from its cause; nil stays nil and a *backend.Error passes through.
func dbError(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	var be *backend.Error
	if errors.As(err, &be) {
		return err
	}
	code := backend.EINTERNAL
	var se sqlite3.Error
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		code = backend.ECANCELED
	case errors.As(err, &se) && (se.Code == sqlite3.ErrBusy || se.Code == sqlite3.ErrLocked):
		code = backend.EUNAVAILABLE
		format += " (another process held the database longer than %s)"
		args = append(args, BusyTimeout)
	case errors.As(err, &se) && se.Code == sqlite3.ErrInterrupt:
		code = backend.ECANCELED
	}
	return backend.WrapError(code, err, format, args...)
}

// isUnique reports whether err is a unique or primary key violation.
func isUnique(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) &&
		(se.ExtendedCode == sqlite3.ErrConstraintUnique || se.ExtendedCode == sqlite3.ErrConstraintPrimaryKey)
}

// toNS stores a time as unix nanoseconds, 0 for the zero time.
func toNS(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// fromNS reads a time stored by toNS, in UTC.
func fromNS(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}
