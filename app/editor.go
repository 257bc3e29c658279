package app

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"factorydesk/backend"
	"factorydesk/backend/blueprint"
	"factorydesk/backend/blueprint/edit"
	"factorydesk/backend/blueprint/save"
	"factorydesk/backend/tools"
	"factorydesk/blueprints"
)

// EditDraft applies edit operations to the editor's text of path like
// EditBlueprint, but an edit that brings lint problems (an unknown role, a
// needs cycle, a value out of range) is made, its problems answered as
// diagnostics: the forms change the text as typing in it would. An edit
// that cannot be made at all (an unknown step, a value of the wrong type
// for the file) is still refused.
func (a *App) EditDraft(path, text string, ops []edit.Op) (Edited, error) {
	if _, err := save.CleanPath(path); err != nil {
		return Edited{}, err
	}
	roles := a.docs.library()
	out, err := edit.Apply(edit.KindOf(path), []byte(text), ops, edit.Options{Path: path, Roles: roles, AllowProblems: true})
	if err != nil {
		return Edited{}, err
	}
	return Edited{Text: string(out), Result: edit.ValidateDraft(path, out, roles)}, nil
}

// RoleSummary is a role of the library, as the editor offers it.
type RoleSummary struct {
	Name        string   `json:"role"`
	Description string   `json:"description"`
	Skills      []string `json:"skills"`
	Model       string   `json:"model,omitempty"`
	Path        string   `json:"path"`
}

// Roles lists the workspace's role library (the roles that parse), by name.
func (a *App) Roles() ([]RoleSummary, error) {
	lib := a.docs.library()
	out := make([]RoleSummary, 0, len(lib))
	for _, r := range lib {
		out = append(out, RoleSummary{Name: r.Name, Description: r.Description, Skills: nonNil(r.Skills), Model: r.Model, Path: r.Path})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// ToolInfo is a tool a role may list under its skills.
type ToolInfo struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

// Tools lists the tools a role's skills may name, in the order they are
// offered to a model.
func (a *App) Tools() ([]ToolInfo, error) {
	docs := map[string]string{}
	for _, t := range tools.New().Definitions(backend.ToolNames) {
		docs[t.Name] = t.Description
	}
	out := make([]ToolInfo, 0, len(backend.ToolNames))
	for _, n := range backend.ToolNames {
		out = append(out, ToolInfo{Name: n, Description: docs[n]})
	}
	return out, nil
}

// Template is a shipped example blueprint a new one can start from.
type Template struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	Steps int    `json:"steps"`
	Text  string `json:"text"`
}

// BlueprintTemplates lists the shipped example blueprints, by id.
func (a *App) BlueprintTemplates() ([]Template, error) {
	names, err := fs.Glob(blueprints.FS, "*.md")
	if err != nil {
		return nil, backend.WrapError(backend.EINTERNAL, err, "list the examples")
	}
	out := []Template{}
	for _, n := range names {
		src, err := fs.ReadFile(blueprints.FS, n)
		if err != nil {
			return nil, backend.WrapError(backend.EINTERNAL, err, "read %s", n)
		}
		bp, _ := blueprint.Parse(n, src, nil)
		if bp == nil {
			continue
		}
		out = append(out, Template{ID: bp.ID, Title: bp.Title, Steps: len(bp.Steps), Text: string(src)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// NewBlueprintRequest asks for the text of a new blueprint: a copy of a
// shipped example (Template) or of a workspace blueprint (From, its path)
// under a new id.
type NewBlueprintRequest struct {
	Template string `json:"template,omitempty"`
	From     string `json:"from,omitempty"`
	ID       string `json:"id"`
	Title    string `json:"title,omitempty"`
}

var newIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

// NewBlueprint returns the unsaved document of a new blueprint,
// blueprints/ID.md: the template's or the copied blueprint's text with its
// id (and title, when given) set, and its output moved to out/ID when it
// was the source's own out/SOURCE, each by an edit of the text. Its Hash is
// empty: SaveBlueprint creates the file, refusing when it exists by then.
func (a *App) NewBlueprint(req NewBlueprintRequest) (Document, error) {
	if !newIDPattern.MatchString(req.ID) || len(req.ID) > 64 {
		return Document{}, backend.Errorf(backend.EINVALID, "blueprint id %q: use lowercase letters, digits and dashes, starting with a letter or digit", req.ID)
	}
	rel := save.Dir + "/" + req.ID + ".md"
	if _, err := os.Lstat(filepath.Join(a.cfg.Root, filepath.FromSlash(rel))); !errors.Is(err, fs.ErrNotExist) {
		return Document{}, backend.Errorf(backend.ECONFLICT, "%s exists already: open it, or choose another id", rel)
	}
	if lib, err := blueprint.Load(a.cfg.Root); err == nil {
		for _, bp := range lib.Blueprints {
			if bp.ID == req.ID {
				return Document{}, backend.Errorf(backend.ECONFLICT, "blueprint %q exists already in %s: choose another id", req.ID, bp.Path)
			}
		}
	}
	src, err := a.newSource(req)
	if err != nil {
		return Document{}, err
	}
	text, err := renameBlueprint(src, req)
	if err != nil {
		return Document{}, err
	}
	return Document{Path: rel, Kind: edit.KindBlueprint, Text: string(text)}, nil
}

// newSource reads the text a new blueprint starts from.
func (a *App) newSource(req NewBlueprintRequest) ([]byte, error) {
	switch {
	case req.Template != "" && req.From != "":
		return nil, backend.Errorf(backend.EINVALID, "a new blueprint starts from a template or from a blueprint, not both")
	case req.Template != "":
		ts, err := a.BlueprintTemplates()
		if err != nil {
			return nil, err
		}
		for _, t := range ts {
			if t.ID == req.Template {
				return []byte(t.Text), nil
			}
		}
		return nil, backend.Errorf(backend.ENOTFOUND, "no template %q", req.Template)
	case req.From != "":
		doc, err := a.OpenBlueprint(req.From)
		if err != nil {
			return nil, err
		}
		if doc.Kind != edit.KindBlueprint {
			return nil, backend.Errorf(backend.EINVALID, "%s is a role, not a blueprint", doc.Path)
		}
		return []byte(doc.Text), nil
	}
	return nil, backend.Errorf(backend.EINVALID, "name the template or the blueprint the new one starts from")
}

// renameBlueprint sets the id (and title) of src to req's, and moves its
// output from out/OLD to out/NEW, by edits of its text.
func renameBlueprint(src []byte, req NewBlueprintRequest) ([]byte, error) {
	bp, _ := blueprint.Parse("new.md", src, nil)
	if bp == nil {
		return nil, backend.Errorf(backend.EINVALID, "the blueprint to start from does not parse: fix it first")
	}
	ops := []edit.Op{{Op: "set", Key: "blueprint", Value: req.ID}}
	if req.Title != "" {
		ops = append(ops, edit.Op{Op: "set", Key: "title", Value: req.Title})
	}
	if bp.Output == path.Join("out", bp.ID) && strings.Contains(string(src), "\noutput:") {
		ops = append(ops, edit.Op{Op: "set", Key: "output", Value: path.Join("out", req.ID)})
	}
	return edit.Apply(edit.KindBlueprint, src, ops, edit.Options{Path: "new.md", AllowProblems: true})
}
