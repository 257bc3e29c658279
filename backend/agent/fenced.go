package agent

import (
	"strings"

	"factorydesk/backend"
)

// bareNames are file names without a dot or slash that a heading line may
// still name as a path.
var bareNames = map[string]bool{
	"Dockerfile": true, "Makefile": true, "LICENSE": true, "Procfile": true,
	"Jenkinsfile": true, "Gemfile": true, "Rakefile": true, "Vagrantfile": true,
	"Containerfile": true, "Justfile": true, "README": true,
}

// fence is one fenced code block of a prose answer.
type fence struct {
	header  int // index of the line naming the path, -1 if the info string did
	path    string
	content string
	end     int // index of the closing fence line
}

// parseFenced reads a prose answer: each fenced code block headed by a path
// becomes a file; the prose outside the blocks and their headers becomes
// the notes.
func parseFenced(text string) ([]backend.File, string, error) {
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	var files []backend.File
	var prose []int
	used := map[int]bool{}
	prev := -1 // last non-blank prose line since the previous block
	for i := 0; i < len(lines); i++ {
		m := fenceOpen.FindStringSubmatch(lines[i])
		if m == nil || (m[2][0] == '`' && strings.Contains(m[3], "`")) {
			if strings.TrimSpace(lines[i]) != "" {
				prev = i
				prose = append(prose, i)
			}
			continue
		}
		f, err := readFence(lines, i, m, prev)
		if err != nil {
			return nil, "", err
		}
		if f.path != "" {
			files = append(files, backend.File{Path: f.path, Content: []byte(f.content)})
			used[f.header] = true
		}
		i, prev = f.end, -1
	}
	var notes []string
	for _, i := range prose {
		if !used[i] {
			notes = append(notes, lines[i])
		}
	}
	return files, strings.TrimSpace(strings.Join(notes, "\n")), nil
}

// readFence reads the block opened at lines[start] (m is its fenceOpen
// match); prev is the last prose line before it, or -1.
func readFence(lines []string, start int, m []string, prev int) (fence, error) {
	indent, marker, info := m[1], m[2], m[3]
	f := fence{header: -1, path: pathFromInfo(info)}
	if f.path == "" && prev >= 0 {
		if f.path = pathFromLine(lines[prev]); f.path != "" {
			f.header = prev
		}
	}
	f.end = -1
	for j := start + 1; j < len(lines); j++ {
		t := strings.TrimLeft(lines[j], " \t")
		if strings.HasPrefix(t, marker) && strings.Trim(t, marker[:1]+" \t") == "" {
			f.end = j
			break
		}
	}
	if f.end < 0 {
		if f.path != "" {
			return f, backend.Errorf(backend.EINVALID,
				"the code block for %q is not closed (was the answer cut short?)", f.path)
		}
		f.end = len(lines)
		return f, nil
	}
	body := lines[start+1 : f.end]
	for k, l := range body {
		body[k] = trimIndent(l, len(indent))
	}
	if len(body) > 0 {
		f.content = strings.Join(body, "\n") + "\n"
	}
	return f, nil
}

// trimIndent removes up to n leading spaces or tabs.
func trimIndent(l string, n int) string {
	for i := 0; i < n && len(l) > 0 && (l[0] == ' ' || l[0] == '\t'); i++ {
		l = l[1:]
	}
	return l
}

// pathFromInfo finds a path in a fence's info string: path=, file=,
// filename= or title= (quoted or not), or a path-like second word as in
// "go cmd/main.go".
func pathFromInfo(info string) string {
	if m := infoPath.FindStringSubmatch(info); m != nil {
		return m[1] + m[2] + m[3]
	}
	if words := strings.Fields(info); len(words) == 2 && looksLikePath(words[1]) {
		return words[1]
	}
	return ""
}

// pathFromLine returns the path a line names when the line holds only a
// path, possibly as a Markdown heading, in bold, in backticks or after a
// "File:" label; else "".
func pathFromLine(line string) string {
	s := strings.TrimSpace(line)
	s = strings.TrimSpace(strings.TrimLeft(s, "#"))
	s = strings.ReplaceAll(s, "**", "")
	for _, label := range []string{"file:", "filename:", "path:"} {
		if len(s) >= len(label) && strings.EqualFold(s[:len(label)], label) {
			s = strings.TrimSpace(s[len(label):])
			break
		}
	}
	s = strings.TrimSuffix(s, ":")
	if len(s) >= 2 && s[0] == '`' && s[len(s)-1] == '`' {
		s = s[1 : len(s)-1]
	}
	s = strings.TrimSuffix(s, ":")
	if !looksLikePath(s) {
		return ""
	}
	return s
}

// looksLikePath reports whether s could be a file path rather than a word
// of prose: no spaces or backticks, and a folder, an extension or a known
// bare file name.
func looksLikePath(s string) bool {
	if s == "" || strings.ContainsAny(s, " \t`") || strings.HasSuffix(s, ".") {
		return false
	}
	return strings.ContainsAny(s, "/.\\") || bareNames[s]
}
