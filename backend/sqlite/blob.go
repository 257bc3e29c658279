package sqlite

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"

	"factorydesk/backend"
)

// PutBlob stores data once under its sha256 hex and returns the hash.
// Storing the same bytes again writes nothing.
func (d *DB) PutBlob(ctx context.Context, data []byte) (string, error) {
	sum := sha256.Sum256(data)
	hash := hex.EncodeToString(sum[:])
	if data == nil {
		data = []byte{} // NOT NULL: an empty blob is still a blob
	}
	err := d.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO blobs (hash, data, size) VALUES (?, ?, ?)
			ON CONFLICT (hash) DO NOTHING`, hash, data, len(data))
		return dbError(err, "store blob %s", hash)
	})
	if err != nil {
		return "", err
	}
	return hash, nil
}

// Blob returns the data stored under hash (ENOTFOUND when absent).
func (d *DB) Blob(ctx context.Context, hash string) ([]byte, error) {
	var data []byte
	err := d.read(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT data FROM blobs WHERE hash = ?`, hash).Scan(&data)
		if errors.Is(err, sql.ErrNoRows) {
			return backend.Errorf(backend.ENOTFOUND, "blob %q not found", hash)
		}
		return dbError(err, "read blob %s", hash)
	})
	if err != nil {
		return nil, err
	}
	if data == nil {
		data = []byte{}
	}
	return data, nil
}

// SaveBlueprintVersion keeps the text of a blueprint version. Saving a
// version that is already stored changes nothing.
func (d *DB) SaveBlueprintVersion(ctx context.Context, blueprintID, version, path string, text []byte) error {
	if version == "" {
		return backend.Errorf(backend.EINVALID, "blueprint %q: version is empty", blueprintID)
	}
	if blueprintID == "" {
		return backend.Errorf(backend.EINVALID, "blueprint version %s: blueprint id is empty", version)
	}
	if text == nil {
		text = []byte{}
	}
	return d.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO blueprint_versions (version, blueprint_id, path, text, created_at)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT (version) DO NOTHING`,
			version, blueprintID, path, text, toNS(d.now()))
		return dbError(err, "save version %s of blueprint %q", version, blueprintID)
	})
}

// BlueprintVersion returns the text of a stored version (ENOTFOUND when absent).
func (d *DB) BlueprintVersion(ctx context.Context, version string) ([]byte, error) {
	var text []byte
	err := d.read(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT text FROM blueprint_versions WHERE version = ?`, version).Scan(&text)
		if errors.Is(err, sql.ErrNoRows) {
			return backend.Errorf(backend.ENOTFOUND, "blueprint version %q not found", version)
		}
		return dbError(err, "read blueprint version %s", version)
	})
	if err != nil {
		return nil, err
	}
	if text == nil {
		text = []byte{}
	}
	return text, nil
}

// blobExists reports whether hash is stored, inside tx.
func blobExists(ctx context.Context, tx *sql.Tx, hash string) (bool, error) {
	var n int
	err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM blobs WHERE hash = ?`, hash).Scan(&n)
	return n > 0, dbError(err, "look up blob %s", hash)
}

// requireBlob returns EINVALID unless hash is stored; what names the field.
func requireBlob(ctx context.Context, tx *sql.Tx, hash, what string) error {
	ok, err := blobExists(ctx, tx, hash)
	if err != nil {
		return err
	}
	if !ok {
		return backend.Errorf(backend.EINVALID, "%s %s is not a stored blob; store it with PutBlob first", what, hash)
	}
	return nil
}
