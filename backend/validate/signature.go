package validate

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"
)

// Normalizers of Signature, applied in order.
var (
	sigPath   = regexp.MustCompile(`(?:[\w.-]*[/\\])+([\w.-]+)`)       // a/b/c.go -> c.go
	sigPos    = regexp.MustCompile(`(\.\w+):\d+(?::\d+)?`)             // c.go:12:3 -> c.go:N
	sigHex    = regexp.MustCompile(`\b(?:0x)?[0-9a-fA-F]{6,}\b`)       // addresses, hashes
	sigNumber = regexp.MustCompile(`\b\d+(?:\.\d+)?(?:ms|s|µs|ns)?\b`) // counts, durations
	sigSpace  = regexp.MustCompile(`\s+`)
)

// Signature normalizes a gate failure's feedback into a short key that is
// the same when the same mistake fails the same gate again: paths reduced
// to their base names, line and column numbers, hex strings, numbers and
// durations removed, the lines that locate errors kept (the first few).
func Signature(feedback string) string {
	var keep []string
	lines := strings.Split(feedback, "\n")
	for i, l := range lines {
		if i > 0 && !errorLine.MatchString(l) {
			continue
		}
		l = sigPath.ReplaceAllString(l, "$1")
		l = sigPos.ReplaceAllString(l, "${1}:N")
		l = sigHex.ReplaceAllString(l, "X")
		l = sigNumber.ReplaceAllString(l, "N")
		l = strings.TrimSpace(sigSpace.ReplaceAllString(l, " "))
		if l != "" {
			keep = append(keep, l)
		}
		if len(keep) >= 6 {
			break
		}
	}
	sum := sha256.Sum256([]byte(strings.Join(keep, "\n")))
	return hex.EncodeToString(sum[:12])
}
