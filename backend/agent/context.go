package agent

import (
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"factorydesk/backend"
)

// DefaultContextTokens is the context package's budget when none is given.
const DefaultContextTokens = 24000

// EstimateTokens estimates the tokens of s: one per 4 bytes, rounded up.
func EstimateTokens(s string) int { return (len(s) + 3) / 4 }

// BuildMessages builds the context package of an attempt: a system message
// (the role's prompt and the output contract: the JSON shape, paths relative
// to the output folder, the step's writes globs, complete files) and a user
// message (the blueprint's title and scope, the step, the Markdown of the
// sections it uses, the upstream files in full while they fit budgetTokens,
// then a listing of the remaining ones with their sizes, and the previous
// attempt's feedback, if any). It returns the messages and their estimated
// tokens. budgetTokens <= 0 means DefaultContextTokens.
func BuildMessages(req backend.AttemptRequest, budgetTokens int) ([]backend.Message, int) {
	if budgetTokens <= 0 {
		budgetTokens = DefaultContextTokens
	}
	system := systemMessage(req)
	head := userHead(req)
	var feedback string
	if req.Feedback != "" {
		feedback = "# Your previous attempt failed:\n\n" + strings.TrimSpace(req.Feedback) + "\n\nFix these problems in this answer.\n"
	}
	lessons := lessonsBlock(req.Lessons)
	used := EstimateTokens(system) + EstimateTokens(head) + EstimateTokens(lessons) + EstimateTokens(feedback)
	var shown, listed strings.Builder
	rest := req.Upstream
	for len(rest) > 0 {
		block, ok := fileBlock(rest[0])
		if !ok || used+EstimateTokens(block) > budgetTokens {
			break
		}
		used += EstimateTokens(block)
		shown.WriteString(block)
		rest = rest[1:]
	}
	if len(rest) > 0 {
		fmt.Fprintf(&listed, "# Upstream files not shown\n\n"+
			"These %d files are over the context budget of %d tokens (or not text); they exist in the output folder:\n\n",
			len(rest), budgetTokens)
		for _, f := range rest {
			fmt.Fprintf(&listed, "- `%s` (%d bytes)\n", f.Path, len(f.Content))
		}
	}
	parts := []string{head}
	if lessons != "" {
		parts = append(parts, lessons)
	}
	if shown.Len() > 0 {
		parts = append(parts, "# Upstream files\n\n"+shown.String())
	}
	if listed.Len() > 0 {
		parts = append(parts, listed.String())
	}
	if feedback != "" {
		parts = append(parts, feedback)
	}
	for i, p := range parts {
		parts[i] = strings.TrimRight(p, "\n")
	}
	user := strings.Join(parts, "\n\n") + "\n"
	msgs := []backend.Message{
		{Role: "system", Content: system},
		{Role: "user", Content: user},
	}
	return msgs, EstimateTokens(system) + EstimateTokens(user)
}

// systemMessage is the role's prompt followed by the output contract.
func systemMessage(req backend.AttemptRequest) string {
	var b strings.Builder
	if req.Role != nil && strings.TrimSpace(req.Role.Prompt) != "" {
		b.WriteString(strings.TrimSpace(req.Role.Prompt))
		b.WriteString("\n\n")
	}
	b.WriteString("# Output contract\n\n" +
		"Answer with one JSON object and nothing else, in this shape:\n\n" +
		`{"files":[{"path":"relative/path.ext","content":"the complete file"}],"notes":"what you did and what the operator should check"}` +
		"\n\n" +
		`- "path" is relative to the output folder and separated by "/": no leading "/", no drive letter, no "..", ` +
		"nothing under .git/ or .factory/.\n")
	var writes []string
	if req.Step != nil {
		writes = req.Step.Writes
	}
	if len(writes) == 0 {
		b.WriteString("- This step declares no writes globs, so it may not write any file.\n")
	} else {
		b.WriteString(`- Write only paths matching the step's writes globs (a glob starting with "!" excludes):` + "\n")
		for _, g := range writes {
			fmt.Fprintf(&b, "  - `%s`\n", g)
		}
	}
	b.WriteString(`- "content" is the complete file, never a diff, an excerpt or a placeholder; ` +
		"files you leave out stay as they are.\n" +
		"- List each file once; write text files only.\n")
	return b.String()
}

// userHead is the user message's start: blueprint, scope, step, sections.
func userHead(req backend.AttemptRequest) string {
	var b strings.Builder
	bp := req.Blueprint
	if bp != nil {
		fmt.Fprintf(&b, "# Blueprint: %s (%s)\n\n", bp.Title, bp.ID)
		if len(bp.Scope) > 0 {
			keys := make([]string, 0, len(bp.Scope))
			for k := range bp.Scope {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			b.WriteString("Scope:\n")
			for _, k := range keys {
				fmt.Fprintf(&b, "- %s: %s\n", k, bp.Scope[k])
			}
			b.WriteString("\n")
		}
	}
	if req.Step == nil {
		return b.String()
	}
	fmt.Fprintf(&b, "# Step: %s\n\n", req.Step.ID)
	if req.Role != nil && req.Role.Name != "" {
		fmt.Fprintf(&b, "Role: %s\n\n", req.Role.Name)
	}
	if len(req.Step.Uses) == 0 {
		return b.String()
	}
	b.WriteString("# Sections of the blueprint this step uses\n\n")
	for _, name := range req.Step.Uses {
		sec, ok := backend.Section{}, false
		if bp != nil {
			sec, ok = bp.Section(name)
		}
		if !ok {
			fmt.Fprintf(&b, "(section %q is not in the blueprint)\n\n", name)
			continue
		}
		b.WriteString(strings.TrimSpace(sec.Text))
		b.WriteString("\n\n")
	}
	return b.String()
}

// fileBlock shows one upstream file in full; ok is false for content that
// is not text.
func fileBlock(f backend.File) (block string, ok bool) {
	if !utf8.Valid(f.Content) || strings.IndexByte(string(f.Content), 0) >= 0 {
		return "", false
	}
	content := string(f.Content)
	if content != "" && !strings.HasSuffix(content, "\n") {
		content += "\n"
	}
	fence := strings.Repeat("`", max(3, longestRun(content, '`')+1))
	return fmt.Sprintf("## %s\n\n%s\n%s%s\n\n", f.Path, fence, content, fence), true
}

// longestRun returns the length of the longest run of c in s.
func longestRun(s string, c byte) int {
	best, n := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			n++
			best = max(best, n)
		} else {
			n = 0
		}
	}
	return best
}
