package agent

import (
	"testing"

	"factorydesk/backend"
)

// FuzzParseAnswer feeds arbitrary text to the answer parser: it never
// panics, and it either gives files with non-empty paths or an EINVALID
// error worded for the model.
func FuzzParseAnswer(f *testing.F) {
	for _, seed := range []string{
		`{"files":[{"path":"main.go","content":"package main\n"}],"notes":"done"}`,
		"```json\n{\"files\":[]}\n```",
		"main.go\n```go\npackage main\n```\n",
		"```go path=a/b.go\nx\n```",
		`{"files":[{"path":"../x","content":1}]}`,
		"",
		"{",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		files, _, err := ParseAnswer(text)
		if err != nil {
			if backend.ErrorCode(err) != backend.EINVALID || err.Error() == "" {
				t.Fatalf("error %v is not an EINVALID with a message", err)
			}
			return
		}
		for _, fl := range files {
			if fl.Path == "" {
				t.Fatalf("a file with no path from %q", text)
			}
		}
	})
}
