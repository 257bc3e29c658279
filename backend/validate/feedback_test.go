package validate

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"factorydesk/backend"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestFeedback(t *testing.T) {
	t.Parallel()
	noise := strings.Repeat("ok  \texample.com/pkg/other\t0.01s\n", 200)
	tests := []struct {
		name string
		res  backend.GateResult
	}{
		{name: "compile", res: backend.GateResult{Name: "go build ./...", ExitCode: 1, Output: "# example.com/svc\n./main.go:5:2: undefined: x\n./main.go:9:10: cannot use s (variable of type string) as int value in return statement\n"}},
		{name: "test", res: backend.GateResult{Name: "go test ./...", ExitCode: 1, Output: noise + "--- FAIL: TestAdd (0.00s)\n    add_test.go:12: Add(1, 2) = 4, want 3\nFAIL\nFAIL\texample.com/svc\t0.003s\nFAIL\n"}},
		{name: "panic", res: backend.GateResult{Name: "go test ./...", ExitCode: 2, Output: "panic: runtime error: index out of range [3] with length 3\n\ngoroutine 7 [running]:\nexample.com/svc.At(...)\n\t/src/svc/at.go:4 +0x1d\nFAIL\texample.com/svc\t0.004s\n"}},
		{name: "timeout", res: backend.GateResult{Name: "go test ./...", ExitCode: -1, TimedOut: true, Duration: 300 * time.Second, Output: "=== RUN   TestSlow\n\n[killed: timed out after 5m0s]\n"}},
		{name: "huge", res: backend.GateResult{Name: "make", ExitCode: 2, Output: manyErrors(500)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := Feedback(tt.res)
			if n := strings.Count(got, "\n") + 1; n > feedbackLines+2 || len(got) > feedbackBytes {
				t.Errorf("feedback is %d lines, %d bytes: over the limits", n, len(got))
			}
			golden(t, filepath.Join("testdata", "feedback", tt.name+".golden"), got)
		})
	}
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		writeFile(t, path, got)
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs:\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// manyErrors returns n distinct compiler-style error lines.
func manyErrors(n int) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "src/a.go:%d:1: undefined: name%d\n", i, i)
	}
	return b.String()
}
