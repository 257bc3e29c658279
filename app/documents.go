package app

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"factorydesk/backend"
	"factorydesk/backend/blueprint"
	"factorydesk/backend/blueprint/edit"
	"factorydesk/backend/blueprint/save"
	"factorydesk/backend/render"
)

// documents is what the blueprint editor needs of one workspace: saves,
// the drafts journal, the Markdown renderer and the role library.
type documents struct {
	root    string
	saver   *save.Saver
	journal *save.Journal
	render  *render.Renderer

	mu    sync.Mutex
	roles map[string]*backend.Role
	sig   string // the role files' names, sizes and times when roles was read
}

// newDocuments returns the editor's parts of the workspace of cfg.
func newDocuments(cfg Config) *documents {
	var versions save.Versions
	if cfg.Store != nil {
		versions = cfg.Store
	}
	return &documents{root: cfg.Root, saver: save.NewSaver(cfg.Root, versions),
		journal: save.NewJournal(cfg.Root, cfg.Now), render: render.New()}
}

// remember keeps the text of the file rel (workspace-relative) as a version
// a later stale save can be merged against.
func (d *documents) remember(ctx context.Context, rel string) {
	if b, err := os.ReadFile(filepath.Join(d.root, filepath.FromSlash(rel))); err == nil {
		d.saver.Remember(ctx, b)
	}
}

// library returns the role library, read again when a role file changed.
func (d *documents) library() map[string]*backend.Role {
	sig := ""
	matches, _ := filepath.Glob(filepath.Join(d.root, "blueprints", "roles", "*.md"))
	for _, m := range matches {
		if fi, err := os.Stat(m); err == nil {
			sig += fmt.Sprintf("%s %v %d\x00", m, fi.ModTime(), fi.Size())
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.roles != nil && sig == d.sig {
		return d.roles
	}
	roles, err := blueprint.LoadRoles(d.root)
	if err != nil {
		return nil
	}
	d.roles, d.sig = roles, sig
	return roles
}

// Document is a blueprint or role file opened for editing.
type Document struct {
	Path string    `json:"path"`
	Kind edit.Kind `json:"kind"`
	Text string    `json:"text"`
	Hash string    `json:"hash"` // sha256 of Text: the base to save over
}

// OpenBlueprint returns the text and version of a blueprint or role file
// (path relative to the workspace, inside blueprints/), for the editor.
func (a *App) OpenBlueprint(path string) (Document, error) {
	rel, err := save.CleanPath(path)
	if err != nil {
		return Document{}, err
	}
	b, err := os.ReadFile(filepath.Join(a.cfg.Root, filepath.FromSlash(rel)))
	if err != nil {
		return Document{}, backend.WrapError(backend.ENOTFOUND, err, "%s not found", rel)
	}
	a.docs.saver.Remember(a.ctx, b)
	return Document{Path: rel, Kind: edit.KindOf(rel), Text: string(b), Hash: save.Hash(b)}, nil
}

// ValidateDraft parses and lints the text of the file at path as the editor
// holds it: the model, every diagnostic with its line, column, step and
// field, the lines of each step and section. Invalid YAML still gives the
// model the lines before the error hold, marked partial.
func (a *App) ValidateDraft(path, text string) (edit.Result, error) {
	if _, err := save.CleanPath(path); err != nil {
		return edit.Result{}, err
	}
	return edit.ValidateDraft(path, []byte(text), a.docs.library()), nil
}

// Edited is the outcome of an edit of the editor's text.
type Edited struct {
	Text   string      `json:"text"`
	Result edit.Result `json:"result"`
}

// EditBlueprint applies edit operations to the editor's text of path,
// splicing each into the text in its own style and verifying it; a refused
// edit is an error (EINVALID) naming why, with the diagnostics it would
// bring.
func (a *App) EditBlueprint(path, text string, ops []edit.Op) (Edited, error) {
	if _, err := save.CleanPath(path); err != nil {
		return Edited{}, err
	}
	roles := a.docs.library()
	out, err := edit.Apply(edit.KindOf(path), []byte(text), ops, edit.Options{Path: path, Roles: roles})
	if err != nil {
		return Edited{}, err
	}
	return Edited{Text: string(out), Result: edit.ValidateDraft(path, out, roles)}, nil
}

// RenderMarkdown renders a blueprint's or role's Markdown body (or plain
// Markdown) as sanitised HTML, with the id and lines of each section.
func (a *App) RenderMarkdown(text string) (render.Result, error) {
	return a.docs.render.Markdown([]byte(text)), nil
}

// SaveBlueprint writes text to path (inside blueprints/) when the file on
// disk is still the version baseHash ("" for a new file): atomically, and
// the path's draft is cleared. Otherwise nothing is written and the answer
// carries the version on disk and a three-way merge of base, disk and text.
func (a *App) SaveBlueprint(path, text, baseHash string) (save.Result, error) {
	res, err := a.docs.saver.Save(a.ctx, path, []byte(text), baseHash)
	if err == nil && res.Saved {
		err = a.docs.journal.Discard(res.Path)
	}
	return res, err
}

// DeleteBlueprint removes path (inside blueprints/) when the file on disk is
// still the version baseHash; otherwise it answers with the conflict.
func (a *App) DeleteBlueprint(path, baseHash string) (save.Result, error) {
	res, err := a.docs.saver.Delete(a.ctx, path, baseHash)
	if err == nil && res.Saved {
		err = a.docs.journal.Discard(res.Path)
	}
	return res, err
}

// DraftSaved says a draft is in the journal.
type DraftSaved struct {
	Path    string `json:"path"`
	Hash    string `json:"hash"`
	SavedAt string `json:"saved_at"`
}

// Draft keeps the editor's unsaved text of path in the journal under
// .factory/drafts/, fsync'd before it returns.
func (a *App) Draft(path, text string) (DraftSaved, error) {
	d, err := a.docs.journal.Put(path, []byte(text))
	if err != nil {
		return DraftSaved{}, err
	}
	return DraftSaved{Path: d.Path, Hash: d.Hash, SavedAt: d.SavedAt.Format("2006-01-02T15:04:05.000Z07:00")}, nil
}

// Drafts lists the drafts that differ from their file, each with its diff
// and whether it is newer than the file.
func (a *App) Drafts() ([]save.Listed, error) { return a.docs.journal.List() }

// DiscardDraft throws away the draft of path.
func (a *App) DiscardDraft(path string) error { return a.docs.journal.Discard(path) }
