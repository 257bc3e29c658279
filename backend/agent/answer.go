package agent

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"

	"factorydesk/backend"
)

// schema is the JSON schema of an answer.
const schema = `{"type":"object",` +
	`"properties":{` +
	`"files":{"type":"array","items":{"type":"object",` +
	`"properties":{"path":{"type":"string"},"content":{"type":"string"}},` +
	`"required":["path","content"],"additionalProperties":false}},` +
	`"notes":{"type":"string"}},` +
	`"required":["files"],"additionalProperties":false}`

// Schema returns the JSON schema of an answer:
// {"files":[{"path":string,"content":string}],"notes":string}, with files
// required and no other keys allowed. Each call returns a fresh copy.
func Schema() json.RawMessage { return json.RawMessage(schema) }

// ParseAnswer parses a model's answer. An answer that is JSON (possibly in
// one ```json fence, possibly surrounded by whitespace) must match Schema
// exactly: unknown keys, wrong types, a missing "files", null and trailing
// text are errors. An answer that is not JSON at all is read as prose with
// fenced code blocks, each headed by its path: a line just before the fence
// holding only the path (possibly in backticks, bold, after "File:" or a
// Markdown heading), or an info string such as ```go path=main.go or
// ```go title="main.go". Code blocks with no path are ignored. Errors are
// *backend.Error with code EINVALID, worded to be fed back to the model.
func ParseAnswer(text string) (files []backend.File, notes string, err error) {
	t := strings.TrimSpace(text)
	if t == "" {
		return nil, "", backend.Errorf(backend.EINVALID, "the answer is empty")
	}
	candidate := unfence(t)
	if looksJSON(candidate) {
		return parseJSON(candidate)
	}
	files, notes, err = parseFenced(text)
	if err != nil {
		return nil, "", err
	}
	if len(files) == 0 {
		return nil, "", backend.Errorf(backend.EINVALID,
			"answer is not JSON (%s) and has no fenced code blocks headed by a path", jsonSyntax(candidate))
	}
	return files, notes, nil
}

// unfence returns the inside of a single ```json (or bare ```) fence that
// wraps all of t, else t.
func unfence(t string) string {
	first, rest, ok := strings.Cut(t, "\n")
	if !ok || !strings.HasPrefix(first, "```") || !strings.HasSuffix(rest, "```") {
		return t
	}
	if info := strings.TrimSpace(strings.TrimPrefix(first, "```")); info != "" && !strings.EqualFold(info, "json") {
		return t
	}
	body := strings.TrimSuffix(rest, "```")
	if strings.Contains(body, "```") {
		return t
	}
	return strings.TrimSpace(body)
}

// looksJSON reports whether t is meant as JSON: an object or array, or any
// other valid JSON value (null, a string, a number).
func looksJSON(t string) bool {
	return strings.HasPrefix(t, "{") || strings.HasPrefix(t, "[") || json.Valid([]byte(t))
}

// jsonSyntax describes why t is not JSON, with the byte offset.
func jsonSyntax(t string) string {
	var v any
	err := json.Unmarshal([]byte(t), &v)
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%s at offset %d", se.Error(), se.Offset)
	}
	if err != nil {
		return err.Error()
	}
	return "valid JSON"
}

// parseJSON decodes one JSON value from t, strictly.
func parseJSON(t string) ([]backend.File, string, error) {
	dec := json.NewDecoder(strings.NewReader(t))
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		var se *json.SyntaxError
		switch {
		case errors.As(err, &se):
			return nil, "", backend.Errorf(backend.EINVALID,
				"the answer is not valid JSON: %s at offset %d", se.Error(), se.Offset)
		case errors.Is(err, io.ErrUnexpectedEOF):
			return nil, "", backend.Errorf(backend.EINVALID,
				"the answer's JSON ends early (unexpected end of input after %d bytes; was it cut short?)", len(t))
		}
		return nil, "", backend.WrapError(backend.EINVALID, err, "the answer is not valid JSON")
	}
	off := dec.InputOffset()
	if rest := strings.TrimSpace(t[off:]); rest != "" {
		return nil, "", backend.Errorf(backend.EINVALID,
			"the answer has trailing text after the JSON object at offset %d: %q; answer with the JSON object only",
			off, clip(rest, 40))
	}
	return decodeAnswer(raw)
}

// decodeAnswer checks raw against the schema, key by key, with exact
// (case-sensitive) key names.
func decodeAnswer(raw json.RawMessage) ([]backend.File, string, error) {
	top, err := object(raw, "the answer", "files", "notes")
	if err != nil {
		return nil, "", err
	}
	filesRaw, ok := top["files"]
	if !ok {
		return nil, "", invalid(`the answer has no "files" key; want {"files":[{"path":...,"content":...}],"notes":...}`)
	}
	if k := kind(filesRaw); k != "an array" {
		return nil, "", invalid(`"files" is %s, want an array of {"path","content"} objects`, k)
	}
	var items []json.RawMessage
	if err := json.Unmarshal(filesRaw, &items); err != nil {
		return nil, "", backend.WrapError(backend.EINVALID, err, `"files" cannot be read`)
	}
	files := make([]backend.File, 0, len(items))
	for i, item := range items {
		where := fmt.Sprintf("files[%d]", i)
		fields, err := object(item, where, "path", "content")
		if err != nil {
			return nil, "", err
		}
		p, err := stringField(fields, where, "path", true)
		if err != nil {
			return nil, "", err
		}
		c, err := stringField(fields, where, "content", true)
		if err != nil {
			return nil, "", err
		}
		files = append(files, backend.File{Path: p, Content: []byte(c)})
	}
	notes, err := stringField(top, "the answer", "notes", false)
	return files, notes, err
}

// object decodes raw as a JSON object whose keys are all in allowed.
func object(raw json.RawMessage, where string, allowed ...string) (map[string]json.RawMessage, error) {
	if k := kind(raw); k != "an object" {
		return nil, invalid("%s is %s, want an object", where, k)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, backend.WrapError(backend.EINVALID, err, "%s cannot be read", where)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		known := false
		for _, a := range allowed {
			known = known || k == a
		}
		if !known {
			return nil, invalid("unknown key %q in %s (allowed: %q)", k, where, allowed)
		}
	}
	return m, nil
}

// stringField returns m[key] as a string; a missing key is an error when
// required, "" otherwise.
func stringField(m map[string]json.RawMessage, where, key string, required bool) (string, error) {
	raw, ok := m[key]
	if !ok {
		if required {
			return "", invalid("%s has no %q", where, key)
		}
		return "", nil
	}
	if k := kind(raw); k != "a string" {
		return "", invalid("%s.%s is %s, want a string", where, key, k)
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", backend.WrapError(backend.EINVALID, err, "%s.%s cannot be read", where, key)
	}
	if replaced(raw, s) {
		return "", invalid("%s.%s is not valid UTF-8 (invalid bytes or a lone surrogate escape such as \\ud800)", where, key)
	}
	return s, nil
}

// replaced reports whether decoding the JSON string raw into s replaced
// invalid UTF-8 or lone surrogate escapes with U+FFFD, which encoding/json
// does silently.
func replaced(raw json.RawMessage, s string) bool {
	const r = "\uFFFD"
	n := strings.Count(s, r)
	if n == 0 {
		return false
	}
	escapes := bytes.Count(bytes.ToLower(raw), []byte(`\ufffd`))
	return n > bytes.Count(raw, []byte(r))+escapes
}

// kind names the JSON type of raw, for error messages.
func kind(raw json.RawMessage) string {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 {
		return "empty"
	}
	switch t[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

func invalid(format string, args ...any) error {
	return backend.Errorf(backend.EINVALID, format, args...)
}

// clip shortens s to at most n bytes, marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// fenceOpen matches an opening code fence: indentation, the fence, the info string.
var fenceOpen = regexp.MustCompile("^([ \t]*)(`{3,}|~{3,})(.*)$")

// infoPath matches path=..., file=..., filename=... or title=... in an info string.
var infoPath = regexp.MustCompile(`(?:^|\s)(?:path|file|filename|title)=(?:"([^"]*)"|'([^']*)'|(\S+))`)
