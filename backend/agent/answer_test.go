package agent

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"factorydesk/backend"
)

func filesOf(pathContent ...string) []backend.File {
	var out []backend.File
	for i := 0; i+1 < len(pathContent); i += 2 {
		out = append(out, backend.File{Path: pathContent[i], Content: []byte(pathContent[i+1])})
	}
	return out
}

func TestSchema(t *testing.T) {
	var s struct {
		Type       string
		Required   []string
		Additional bool `json:"additionalProperties"`
		Properties map[string]struct {
			Type  string
			Items struct {
				Required   []string
				Additional bool `json:"additionalProperties"`
				Properties map[string]struct{ Type string }
			}
		}
	}
	if err := json.Unmarshal(Schema(), &s); err != nil {
		t.Fatal(err)
	}
	items := s.Properties["files"].Items
	switch {
	case s.Type != "object" || !reflect.DeepEqual(s.Required, []string{"files"}) || s.Additional:
		t.Errorf("top level = %+v", s)
	case len(s.Properties) != 2 || s.Properties["files"].Type != "array" || s.Properties["notes"].Type != "string":
		t.Errorf("properties = %+v", s.Properties)
	case !reflect.DeepEqual(items.Required, []string{"path", "content"}) || items.Additional ||
		len(items.Properties) != 2 || items.Properties["path"].Type != "string" || items.Properties["content"].Type != "string":
		t.Errorf("items = %+v", items)
	}
}

func TestParseAnswerJSON(t *testing.T) {
	const ok = `{"files":[{"path":"a.go","content":"package a\n"}],"notes":"done"}`
	tests := []struct {
		name      string
		text      string
		files     []backend.File
		notes     string
		wantError string
	}{
		{name: "plain", text: ok, files: filesOf("a.go", "package a\n"), notes: "done"},
		{name: "whitespace around", text: "\n\n  " + ok + "\n\t ", files: filesOf("a.go", "package a\n"), notes: "done"},
		{name: "json fence", text: "```json\n" + ok + "\n```", files: filesOf("a.go", "package a\n"), notes: "done"},
		{name: "bare fence", text: " ```\n" + ok + "\n```\n", files: filesOf("a.go", "package a\n"), notes: "done"},
		{name: "no notes", text: `{"files":[]}`, files: []backend.File{}},
		{name: "escapes kept", text: `{"files":[{"path":"é/ü.txt","content":"\ud83d\ude00 \ufffd \t"}]}`, files: filesOf("é/ü.txt", "😀 \uFFFD \t")},
		{name: "null", text: "null", wantError: "the answer is null, want an object"},
		{name: "array", text: `[{"path":"a"}]`, wantError: "the answer is an array, want an object"},
		{name: "string", text: `"files"`, wantError: "the answer is a string"},
		{name: "number", text: `42`, wantError: "the answer is a number"},
		{name: "truncated", text: `{"files":[{"path":"a.go","content":"pack`, wantError: "ends early"},
		{name: "syntax", text: `{"files": [}`, wantError: "not valid JSON: invalid character '}' looking for beginning of value at offset 12"},
		{name: "trailing", text: ok + " Hope this helps!", wantError: `trailing text after the JSON object at offset 66: "Hope this helps!"`},
		{name: "second object", text: ok + ok, wantError: "trailing text"},
		{name: "missing files", text: `{"notes":"x"}`, wantError: `no "files" key`},
		{name: "files null", text: `{"files":null}`, wantError: `"files" is null, want an array`},
		{name: "files object", text: `{"files":{}}`, wantError: `"files" is an object, want an array`},
		{name: "unknown key", text: `{"files":[],"extra":1}`, wantError: `unknown key "extra" in the answer`},
		{name: "key case", text: `{"Files":[]}`, wantError: `unknown key "Files"`},
		{name: "unknown file key", text: `{"files":[{"path":"a","content":"b","mode":"0755"}]}`, wantError: `unknown key "mode" in files[0]`},
		{name: "file null", text: `{"files":[null]}`, wantError: "files[0] is null, want an object"},
		{name: "path number", text: `{"files":[{"path":1,"content":"b"}]}`, wantError: "files[0].path is a number, want a string"},
		{name: "content null", text: `{"files":[{"path":"a","content":null}]}`, wantError: "files[0].content is null"},
		{name: "content missing", text: `{"files":[{"path":"a"}]}`, wantError: `files[0] has no "content"`},
		{name: "path missing", text: `{"files":[{"content":"a"}]}`, wantError: `files[0] has no "path"`},
		{name: "notes number", text: `{"files":[],"notes":3}`, wantError: "notes is a number"},
		{name: "lone surrogate", text: `{"files":[{"path":"a","content":"x\ud800y"}]}`, wantError: "files[0].content is not valid UTF-8"},
		{name: "invalid bytes", text: "{\"files\":[{\"path\":\"a\xff\",\"content\":\"\"}]}", wantError: "files[0].path is not valid UTF-8"},
		{name: "empty", text: " \n\t", wantError: "the answer is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files, notes, err := ParseAnswer(tt.text)
			if tt.wantError != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantError) || backend.ErrorCode(err) != backend.EINVALID {
					t.Fatalf("err = %v, want EINVALID containing %q", err, tt.wantError)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(files, tt.files) || notes != tt.notes {
				t.Errorf("got %q, %q; want %q, %q", files, notes, tt.files, tt.notes)
			}
		})
	}
}

func TestParseAnswerFenced(t *testing.T) {
	tests := []struct {
		name      string
		text      string
		files     []backend.File
		notes     string
		wantError string
	}{
		{
			name:  "bare path line",
			text:  "Here you go.\n\nmain.go\n```go\npackage main\n```\nDone.",
			files: filesOf("main.go", "package main\n"), notes: "Here you go.\nDone.",
		},
		{name: "backticks", text: "`cmd/app/main.go`\n```go\npackage main\n```", files: filesOf("cmd/app/main.go", "package main\n")},
		{name: "bold", text: "**go.mod**\n```\nmodule x\n```", files: filesOf("go.mod", "module x\n")},
		{name: "bold backticks colon", text: "**`internal/db.go`:**\n```go\npackage db\n```", files: filesOf("internal/db.go", "package db\n")},
		{name: "File label", text: "File: docs/design.md\n```markdown\n# Design\n```", files: filesOf("docs/design.md", "# Design\n")},
		{name: "bold File label", text: "**File:** `Dockerfile`\n```dockerfile\nFROM scratch\n```", files: filesOf("Dockerfile", "FROM scratch\n")},
		{name: "heading", text: "### api/handler.go\n```go\npackage api\n```", files: filesOf("api/handler.go", "package api\n")},
		{name: "heading backticks", text: "## `Makefile`\n\n```make\nall:\n\tgo build\n```", files: filesOf("Makefile", "all:\n\tgo build\n")},
		{name: "blank line between", text: "a.go\n\n```go\npackage a\n```", files: filesOf("a.go", "package a\n")},
		{name: "path info", text: "```go path=cmd/x.go\npackage main\n```", files: filesOf("cmd/x.go", "package main\n")},
		{name: "title info", text: "```yaml title=\".github/workflows/ci.yml\"\non: push\n```", files: filesOf(".github/workflows/ci.yml", "on: push\n")},
		{name: "file info quoted", text: "```go file='a b.go'\npackage a\n```", files: filesOf("a b.go", "package a\n")},
		{name: "second word", text: "```go pkg/x.go\npackage x\n```", files: filesOf("pkg/x.go", "package x\n")},
		{name: "tilde fence", text: "x.md\n~~~\n```go\nnested\n```\n~~~", files: filesOf("x.md", "```go\nnested\n```\n")},
		{name: "long fence", text: "x.md\n````md\n```\ninner\n```\n````", files: filesOf("x.md", "```\ninner\n```\n")},
		{name: "indented in list", text: "1. Write it:\n   a.go\n   ```go\n   package a\n     var x\n   ```", files: filesOf("a.go", "package a\n  var x\n"), notes: "1. Write it:"},
		{name: "CRLF", text: "a.go\r\n```go\r\npackage a\r\n```\r\n", files: filesOf("a.go", "package a\n")},
		{name: "empty block", text: "empty.txt\n```\n```", files: filesOf("empty.txt", "")},
		{
			name:  "several, unheaded ignored",
			text:  "Run this:\n```sh\ngo test ./...\n```\na.go\n```go\npackage a\n```\nb.go\n```go\npackage b\n```",
			files: filesOf("a.go", "package a\n", "b.go", "package b\n"), notes: "Run this:",
		},
		{name: "hostile path kept for the scope check", text: "../../etc/passwd\n```\nroot\n```", files: filesOf("../../etc/passwd", "root\n")},
		{name: "prose heading is not a path", text: "Example:\n```go\nx\n```", wantError: "has no fenced code blocks headed by a path"},
		{name: "sentence is not a path", text: "Here is the code.\n```go\nx\n```", wantError: "has no fenced code blocks headed by a path"},
		{name: "text between header and fence", text: "a.go\nIt does x.\n```go\nx\n```", wantError: "no fenced code blocks"},
		{name: "prose only", text: "I cannot help with that.", wantError: "answer is not JSON (invalid character 'I' looking for beginning of value at offset 1) and has no fenced code blocks headed by a path"},
		{name: "unclosed", text: "a.go\n```go\npackage a\n", wantError: `the code block for "a.go" is not closed`},
		{name: "unclosed unheaded", text: "see\n```go\npackage a\n", wantError: "no fenced code blocks"},
		{name: "json fence inside prose", text: "Answer:\n```json\n{\"files\":[]}\n```", wantError: "no fenced code blocks headed by a path"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files, notes, err := ParseAnswer(tt.text)
			if tt.wantError != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantError) || backend.ErrorCode(err) != backend.EINVALID {
					t.Fatalf("err = %v, want EINVALID containing %q", err, tt.wantError)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(files, tt.files) || notes != tt.notes {
				t.Errorf("got %q, %q; want %q, %q", files, notes, tt.files, tt.notes)
			}
		})
	}
}
