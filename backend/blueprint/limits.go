package blueprint

import (
	"errors"
	"fmt"
	"strings"

	"github.com/goccy/go-yaml/token"
)

// Limits on a file, checked before it is parsed. The YAML parser's time and
// memory grow faster than the input with deep nesting (80 KB of nested "["
// took it 30 s and 2.5 GB), and its lexer's grow with the tokens (some 280
// bytes each: 2 MiB of "a," took 15 s and 540 MB), so a hostile front
// matter is refused by its size, its tokens counted from above and its
// nesting before it is parsed.
const (
	// MaxFrontMatterBytes bounds a front matter: some 15,000 plain steps.
	MaxFrontMatterBytes = 2 << 20
	// MaxFrontMatterTokens bounds the tokens of a front matter, as
	// tokenEstimate counts them before lexing: a 5,000-step blueprint has
	// about 150,000.
	MaxFrontMatterTokens = 256 << 10
	// MaxNestingDepth bounds how deep collections nest, block and flow
	// together; a blueprint needs about 5.
	MaxNestingDepth = 32
	// MaxBodyBytes bounds the Markdown body of a blueprint or role: the
	// Markdown parser takes up to about 8 µs a byte on hostile bodies.
	MaxBodyBytes = 256 << 10
	// MaxFileBytes bounds a whole blueprint or role file.
	MaxFileBytes = MaxFrontMatterBytes + MaxBodyBytes
)

// CheckSize reports a front matter over MaxFrontMatterBytes or with more
// than MaxFrontMatterTokens tokens, before it is lexed.
func CheckSize(yamlText []byte) error {
	if len(yamlText) > MaxFrontMatterBytes {
		return errors.New(sizeMessage("the front matter", len(yamlText), MaxFrontMatterBytes))
	}
	if n := tokenEstimate(yamlText); n > MaxFrontMatterTokens {
		return fmt.Errorf("the front matter has some %d YAML tokens, over the limit of %d: split the blueprint or shorten it", n, MaxFrontMatterTokens)
	}
	return nil
}

// tokenEstimate counts, from above, the tokens the YAML lexer makes of b:
// every flow indicator ("[", "]", "{", "}", ","), every ":", "-" and "?",
// and every run of other bytes between blanks, twice when it starts with
// an anchor, alias or tag ("&", "*", "!"). A quoted string or a plain
// scalar of several words counts more than once; nothing counts less.
func tokenEstimate(b []byte) int {
	n, run := 0, false
	for _, c := range b {
		switch c {
		case ' ', '\t', '\r', '\n':
			run = false
		case '[', ']', '{', '}', ',', ':', '-', '?':
			n, run = n+1, false
		default:
			if !run {
				n, run = n+1, true
				if c == '&' || c == '*' || c == '!' {
					n++
				}
			}
		}
	}
	return n
}

// CheckBody reports a Markdown body over MaxBodyBytes or nesting deeper
// than MaxNestingDepth, with its 0-based line and 1-based column in body.
func CheckBody(body []byte) (line, col int, err error) {
	if len(body) > MaxBodyBytes {
		return 0, 1, errors.New(sizeMessage("the Markdown body", len(body), MaxBodyBytes))
	}
	if line, col, depth, deep := bodyTooDeep(body, MaxNestingDepth); deep {
		return line, col, fmt.Errorf("the Markdown nests %d levels deep here, over the limit of %d: flatten it", depth, MaxNestingDepth)
	}
	return 0, 0, nil
}

// tooDeep returns the first token of tokens nested deeper than max levels
// and its depth, or nil. A level is a flow collection ("[", "{") or a block
// one: a sequence entry ("-") or a mapping key indented further than the
// entry or key that holds it.
func tooDeep(tokens token.Tokens, max int) (*token.Token, int) {
	flow := 0
	var block []int // columns of the open block collections
	for i, tk := range tokens {
		col := 0
		switch tk.Type {
		case token.SequenceStartType, token.MappingStartType:
			flow++
		case token.SequenceEndType, token.MappingEndType:
			if flow > 0 {
				flow--
			}
		case token.SequenceEntryType:
			col = tk.Position.Column
		case token.MappingValueType:
			if i > 0 {
				col = tokens[i-1].Position.Column
			}
		case token.DocumentHeaderType, token.DocumentEndType:
			flow, block = 0, block[:0]
		}
		if col > 0 && flow == 0 {
			for len(block) > 0 && block[len(block)-1] >= col {
				block = block[:len(block)-1]
			}
			block = append(block, col)
		}
		if d := flow + len(block); d > max {
			return tk, d
		}
	}
	return nil, 0
}

// sizeMessage says a file or front matter is over its limit.
func sizeMessage(what string, n, max int) string {
	return fmt.Sprintf("%s is %d bytes, over the limit of %d bytes: split the blueprint or shorten it", what, n, max)
}

// bodyTooDeep scans a Markdown body for the nesting that makes Markdown
// parsers slow (deep block quotes, deeply indented lists, runs of unclosed
// brackets or parentheses in a paragraph) and returns the 0-based line and
// 1-based column where it goes deeper than max, with the depth; ok is false
// when it never does. Fenced code blocks are not looked into.
func bodyTooDeep(body []byte, limit int) (line, col, depth int, ok bool) {
	fence := ""
	brackets := 0 // unclosed [ and ( in the current paragraph
	for i, raw := range strings.Split(string(body), "\n") {
		trimmed := strings.TrimLeft(raw, " \t")
		indent := len(raw) - len(trimmed)
		if f := fenceOf(trimmed); f != "" && (fence == "" || strings.HasPrefix(f, fence)) {
			if fence == "" {
				fence = f
			} else {
				fence = ""
			}
			continue
		}
		if fence != "" {
			continue
		}
		if trimmed == "" {
			brackets = 0
			continue
		}
		if d := indentDepth(raw[:indent]); d > limit {
			return i, indent + 1, d, true
		}
		if d := quoteDepth(trimmed); d > limit {
			return i, indent + 1, d, true
		}
		for j, c := range trimmed {
			switch c {
			case '[', '(':
				brackets++
			case ']', ')':
				brackets = max(brackets-1, 0)
			}
			if brackets > limit {
				return i, indent + j + 1, brackets, true
			}
		}
	}
	return 0, 0, 0, false
}

// quoteDepth counts the block quote markers (">", maybe spaced) a line
// starts with.
func quoteDepth(trimmed string) int {
	n := 0
	for _, c := range trimmed {
		switch c {
		case '>':
			n++
		case ' ', '\t':
		default:
			return n
		}
	}
	return n
}

// fenceOf returns the fence a line opens or closes (``` or ~~~, as long as
// written), or "".
func fenceOf(trimmed string) string {
	for _, c := range []string{"`", "~"} {
		n := len(trimmed) - len(strings.TrimLeft(trimmed, c))
		if n >= 3 {
			return strings.Repeat(c, n)
		}
	}
	return ""
}

// indentDepth is how many list levels an indentation can open: one per two
// columns, a tab counting four.
func indentDepth(ws string) int {
	cols := 0
	for _, c := range ws {
		if c == '\t' {
			cols += 4
		} else {
			cols++
		}
	}
	return cols / 2
}
