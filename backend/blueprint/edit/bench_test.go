package edit

import (
	"fmt"
	"strings"
	"testing"
)

// bigBlueprint returns a blueprint of n steps in the shipped examples' style.
func bigBlueprint(n int) []byte {
	var b strings.Builder
	b.WriteString("---\nblueprint: big\ntitle: Big\nmodel: ollama:qwen2.5-coder:7b\nscope: {tenant: acme}\nsteps:\n")
	for i := range n {
		fmt.Fprintf(&b, "  - id: s%d\n    role: architect\n", i)
		if i > 0 {
			fmt.Fprintf(&b, "    needs: [s%d]\n", i-1)
		}
		fmt.Fprintf(&b, "    uses: [Overview]\n    writes: [\"out/%d/**\"]\n    validate: [\"go test ./...\"]\n", i)
	}
	b.WriteString("---\n# Big\n\n## Overview\n\nText.\n")
	return []byte(b.String())
}

// BenchmarkValidateDraft lints a draft of 30, 200, 1,000 and 5,000 steps
// (goal: under 20 ms at 1,000).
func BenchmarkValidateDraft(b *testing.B) {
	for _, n := range []int{30, 200, 1000, 5000} {
		src := bigBlueprint(n)
		b.Run(fmt.Sprintf("steps=%d", n), func(b *testing.B) {
			for b.Loop() {
				if r := ValidateDraft("blueprints/big.md", src, nil); len(r.Diagnostics) > 0 {
					b.Fatal(r.Diagnostics)
				}
			}
		})
	}
}

// BenchmarkEditVerify makes one edit of a step field and verifies it,
// lint check included, on 30, 200 and 1,000 steps (goal: under 20 ms at
// 1,000).
func BenchmarkEditVerify(b *testing.B) {
	for _, n := range []int{30, 200, 1000} {
		src := bigBlueprint(n)
		ops := []Op{{Op: "set", Key: fmt.Sprintf("steps.s%d.retries", n/2), Value: int64(2)}}
		b.Run(fmt.Sprintf("steps=%d", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := Apply(KindBlueprint, src, ops, Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
