package validate

import "testing"

func TestSignature(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		a, b string
		same bool
	}{
		{name: "paths and positions differ",
			a: "$ go build ./... (exit 1)\n/tmp/ws1/out/x/main.go:12:3: undefined: Foo\n",
			b: "$ go build ./... (exit 1)\n/home/u/w/out/x/main.go:40:9: undefined: Foo\n", same: true},
		{name: "hex and durations differ",
			a: "$ go test ./... (exit 1)\npanic: boom at 0xc000123456\nFAIL x 0.012s\n",
			b: "$ go test ./... (exit 1)\npanic: boom at 0xc000abcdef\nFAIL x 1.5s\n", same: true},
		{name: "different errors",
			a: "$ go build ./... (exit 1)\nmain.go:1:1: undefined: Foo\n",
			b: "$ go build ./... (exit 1)\nmain.go:1:1: undefined: Bar\n", same: false},
		{name: "different gates",
			a: "$ go vet ./... (exit 1)\nmain.go:1:1: x\n",
			b: "$ go build ./... (exit 1)\nmain.go:1:1: x\n", same: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Signature(tt.a) == Signature(tt.b); got != tt.same {
				t.Errorf("same = %v, want %v (%s vs %s)", got, tt.same, Signature(tt.a), Signature(tt.b))
			}
		})
	}
}
