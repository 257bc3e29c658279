// Package blueprinttest makes blueprints for tests and benchmarks.
package blueprinttest

import (
	"fmt"
	"math"
	"strings"
)

// Roles are the shipped roles the large blueprints use, in turn.
var Roles = []string{"architect", "backend-developer", "qa-engineer", "devops"}

// Width is how many steps each layer of Large(n) holds.
func Width(n int) int { return max(1, int(math.Round(math.Sqrt(float64(n)/2.5)))) }

// StepID is the id of the step in layer l, column c of a large blueprint.
func StepID(l, c int) string { return fmt.Sprintf("s%03d-%02d", l, c) }

// Large returns a lint-clean blueprint of n steps in the shipped examples'
// style, laid out in layers of Width(n) steps: each step needs the one
// before it in its column, every third also its left neighbour's, and uses
// a section of the body.
func Large(n int) []byte {
	w := Width(n)
	var b strings.Builder
	fmt.Fprintf(&b, "---\nblueprint: large\ntitle: A blueprint of %d steps\nscope: {tenant: acme, edition: standard}\n", n)
	b.WriteString("model: ollama:qwen2.5-coder:7b\noutput: out/large\nsteps:\n")
	for i := range n {
		l, c := i/w, i%w
		fmt.Fprintf(&b, "  - id: %s\n    role: %s\n", StepID(l, c), Roles[i%len(Roles)])
		if l > 0 {
			needs := []string{StepID(l-1, c)}
			if c > 0 && c%3 == 0 {
				needs = append(needs, StepID(l-1, c-1))
			}
			fmt.Fprintf(&b, "    needs: [%s]\n", strings.Join(needs, ", "))
		}
		sec := "Overview"
		if i%2 == 1 {
			sec = "API"
		}
		fmt.Fprintf(&b, "    uses: [%s]\n    writes: [\"s%d/**\"]\n", sec, i)
		if i%5 == 0 {
			b.WriteString("    validate: [\"go build ./...\"]\n    retries: 1\n")
		}
	}
	b.WriteString("checks: [\"go test ./...\"]\n---\n# A large blueprint\n\n## Overview\n\nWhat it builds.\n\n## API\n\nHow it is called.\n")
	return []byte(b.String())
}
