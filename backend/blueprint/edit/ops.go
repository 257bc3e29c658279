package edit

import (
	"encoding/json"
	"strings"

	"factorydesk/backend"
)

// Op is one edit operation. Op names it; the other fields are its
// arguments:
//
//	set            Key, Value   set a key like title, scope.tenant, options.temperature, steps.ID.retries
//	unset          Key          remove a key
//	add-step       Step, Role, Needs, Writes, Index (optional: the end)
//	remove-step    Step         its id also leaves every needs list
//	rename         Step, To     every needs reference follows
//	duplicate-step Step, To     the copy, named To, goes right after Step
//	move-step      Step, Index  reorder: Step ends at Index
//	connect        From, To     To needs From (a cycle is refused)
//	disconnect     From, To     To no longer needs From
//	set-body       Text         the Markdown body (a role's prompt)
//	set-section    Section, Text one section of the body, its heading included
type Op struct {
	Op      string   `json:"op"`
	Key     string   `json:"key,omitempty"`
	Value   any      `json:"value,omitempty"`
	Step    string   `json:"step,omitempty"`
	To      string   `json:"to,omitempty"`
	From    string   `json:"from,omitempty"`
	Role    string   `json:"role,omitempty"`
	Needs   []string `json:"needs,omitempty"`
	Writes  []string `json:"writes,omitempty"`
	Index   *int     `json:"index,omitempty"`
	Section string   `json:"section,omitempty"`
	Text    string   `json:"text,omitempty"`
}

// UnmarshalJSON reads an Op, turning whole numbers of Value into integers.
func (o *Op) UnmarshalJSON(b []byte) error {
	type raw Op
	var r struct {
		raw
		Value json.RawMessage `json:"value,omitempty"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return err
	}
	*o = Op(r.raw)
	if len(r.Value) > 0 {
		d := json.NewDecoder(strings.NewReader(string(r.Value)))
		d.UseNumber()
		var v any
		if err := d.Decode(&v); err != nil {
			return err
		}
		o.Value = fromJSON(v)
	}
	return nil
}

// fromJSON turns a decoded JSON value into a plain value.
func fromJSON(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case map[string]any:
		for k, e := range x {
			x[k] = fromJSON(e)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = fromJSON(e)
		}
		return x
	}
	return v
}

// Options tune Apply.
type Options struct {
	Path  string                   // the file's path, named in diagnostics
	Roles map[string]*backend.Role // the role library; nil skips the role checks
	// AllowProblems accepts an edit that brings new lint problems (an
	// unknown role, a cycle, a value of the wrong type); by default such an
	// edit is refused with them.
	AllowProblems bool
}

// Apply applies ops in order to the file src and returns its new bytes.
// Each edit is verified: the file must parse, equal the model the edit
// intends, and (unless allowed) have no lint problem it did not have.
// A refused edit returns an *backend.Error (EINVALID with what to do, or
// with the new diagnostics as backend.Diagnostics) and src is unchanged.
func Apply(kind Kind, src []byte, ops []Op, opt Options) ([]byte, error) {
	d, err := Open(kind, src)
	if err != nil {
		return nil, err
	}
	for _, op := range ops {
		if d, _, err = d.apply(op, opt); err != nil {
			return nil, err
		}
	}
	return d.src, nil
}

// apply makes one edit and returns the new document and the splices made.
func (d *Document) apply(op Op, opt Options) (*Document, []splice, error) {
	model := clone(d.plainModel()).(map[string]any)
	ed := &editor{d: d, st: d.learnStyle()}
	body, err := ed.run(op, model)
	if err != nil {
		return nil, nil, err
	}
	if err := d.checkAnchors(ed.splices); err != nil {
		return nil, nil, err
	}
	out, err := applySplices(d.src, ed.splices)
	if err != nil {
		return nil, nil, err
	}
	nd, err := d.verify(out, model, body)
	if err != nil {
		return nil, nil, err
	}
	if !opt.AllowProblems {
		if err := newProblems(d, nd, opt); err != nil {
			return nil, nil, err
		}
	}
	return nd, ed.splices, nil
}

// run dispatches one operation: its splices go to ed, the model it
// intends is made in model; it returns the body it intends.
func (ed *editor) run(op Op, model map[string]any) ([]byte, error) {
	d := ed.d
	body := d.src[d.bounds.BodyStart:]
	if d.kind == KindRole && strings.Contains(op.Op, "step") || d.kind == KindRole && (op.Op == "rename" || op.Op == "connect" || op.Op == "disconnect") {
		return nil, backend.Errorf(backend.EINVALID, "%s: a role has no steps", op.Op)
	}
	var err error
	switch op.Op {
	case "set":
		err = ed.opSet(op.Key, op.Value, model)
	case "unset":
		err = ed.opUnset(op.Key, model)
	case "add-step":
		err = ed.opAddStep(op, model)
	case "remove-step":
		err = ed.opRemoveStep(op.Step, model)
	case "rename":
		err = ed.opRename(op.Step, op.To, model)
	case "duplicate-step":
		err = ed.opDuplicate(op.Step, op.To, model)
	case "move-step":
		err = ed.opMove(op, model)
	case "connect":
		err = ed.opConnect(op.From, op.To, model)
	case "disconnect":
		err = ed.opDisconnect(op.From, op.To, model)
	case "set-body":
		body = []byte(ed.eolText(op.Text))
		ed.add(d.bounds.BodyStart, len(d.src), string(body))
	case "set-section":
		body, err = ed.opSection(op.Section, op.Text)
	default:
		err = backend.Errorf(backend.EINVALID, "unknown edit %q (edits: set, unset, add-step, remove-step, rename, duplicate-step, move-step, connect, disconnect, set-body, set-section)", op.Op)
	}
	return body, err
}

// eolText writes text with the file's line breaks.
func (ed *editor) eolText(text string) string {
	if ed.st.eol == "\r\n" && !strings.Contains(text, "\r\n") {
		return strings.ReplaceAll(text, "\n", "\r\n")
	}
	return text
}
