package tools

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"factorydesk/backend"
)

// maxArgumentBytes bounds a call's arguments; run_checks carries whole
// files, so it is the largest.
const maxArgumentBytes = 4 << 20

// The tools' descriptions and argument schemas, as the model sees them.
const (
	listFilesDoc = "List the files under the output folder (the files earlier steps and attempts wrote), " +
		"with their sizes. Paths are relative to the output folder."
	listFilesSchema = `{"type":"object","properties":{` +
		`"glob":{"type":"string","maxLength":512,"description":"a glob relative to the output folder, e.g. \"**/*.go\" or \"docs/*\"; ** matches any depth; default \"**\""}` +
		`},"additionalProperties":false}`

	readFileDoc = "Read a text file under the output folder, with line numbers. " +
		"Give from_line and to_line to read part of a long file."
	readFileSchema = `{"type":"object","properties":{` +
		`"path":{"type":"string","maxLength":1024,"description":"the file's path relative to the output folder, e.g. \"docs/design.md\""},` +
		`"from_line":{"type":"integer","minimum":1,"description":"the first line to read (default 1)"},` +
		`"to_line":{"type":"integer","minimum":1,"description":"the last line to read (default: the end)"}` +
		`},"required":["path"],"additionalProperties":false}`

	searchDoc = "Search the text files under the output folder for a regular expression (RE2 syntax, " +
		"matched against each line). Answers path:line: text for each matching line."
	searchSchema = `{"type":"object","properties":{` +
		`"pattern":{"type":"string","minLength":1,"maxLength":512,"description":"an RE2 regular expression, e.g. \"func \\\\w+Handler\""},` +
		`"glob":{"type":"string","maxLength":512,"description":"only files matching this glob, e.g. \"**/*.go\" (default \"**\")"}` +
		`},"required":["pattern"],"additionalProperties":false}`

	searchLessonsDoc = "Search the lessons operators and failing gates taught this role in earlier runs; " +
		"the most relevant come first."
	searchLessonsSchema = `{"type":"object","properties":{` +
		`"query":{"type":"string","maxLength":512,"description":"words to look for, e.g. \"error handling\"; empty lists the newest"}` +
		`},"required":["query"],"additionalProperties":false}`

	runChecksDoc = "Run this step's validation gates (its build and test commands) on a draft: the files are " +
		"written into a scratch copy of the output folder and checked there; the output folder itself is not " +
		"changed. Answers which gates passed and the errors of the one that failed. Your final answer must " +
		"still list every file."
	runChecksSchema = `{"type":"object","properties":{` +
		`"files":{"type":"array","minItems":1,"maxItems":200,"description":"the draft files, complete","items":{"type":"object","properties":{` +
		`"path":{"type":"string","maxLength":1024,"description":"relative to the output folder"},` +
		`"content":{"type":"string","description":"the complete file"}},` +
		`"required":["path","content"],"additionalProperties":false}}` +
		`},"required":["files"],"additionalProperties":false}`
)

// compileSchema compiles one of the schemas above; they are constants, so
// a failure is a bug.
func compileSchema(name, schema string) *jsonschema.Schema {
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(schema))
	if err != nil {
		panic(fmt.Sprintf("tools: schema of %s: %v", name, err))
	}
	c := jsonschema.NewCompiler()
	url := "factory:tools/" + name + ".json"
	if err := c.AddResource(url, doc); err != nil {
		panic(fmt.Sprintf("tools: schema of %s: %v", name, err))
	}
	return c.MustCompile(url)
}

// checkArguments checks a call's arguments against its tool's schema; the
// error says what is wrong, worded for the model.
func checkArguments(t *tool, args json.RawMessage) error {
	if len(args) > maxArgumentBytes {
		return backend.Errorf(backend.EINVALID, "the arguments are %d bytes, over the limit of %d", len(args), maxArgumentBytes)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(args))
	if err != nil {
		return backend.Errorf(backend.EINVALID, "the arguments of %s are not JSON (%v); send a JSON object matching its schema: %s",
			t.def.Name, err, t.def.Parameters)
	}
	err = t.schema.Validate(v)
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return err
	}
	var problems []string
	for _, u := range ve.BasicOutput().Errors {
		if u.Error == nil {
			continue
		}
		at := u.InstanceLocation
		if at == "" {
			at = "the arguments"
		} else {
			at = strings.TrimPrefix(at, "/")
		}
		problems = append(problems, fmt.Sprintf("%s: %s", at, u.Error.String()))
	}
	if len(problems) == 0 {
		problems = append(problems, ve.Error())
	}
	return backend.Errorf(backend.EINVALID, "bad arguments for %s: %s; its schema is %s",
		t.def.Name, strings.Join(problems, "; "), t.def.Parameters)
}
