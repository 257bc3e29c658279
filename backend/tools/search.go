package tools

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"factorydesk/backend"
)

// maxHitLine bounds the text shown of one matching line.
const maxHitLine = 240

type searchArgs struct {
	Pattern string `json:"pattern"`
	Glob    string `json:"glob"`
}

// search answers the lines matching an RE2 expression in the text files
// matching a glob, as path:line: text, within MaxHits lines and
// MaxScanBytes read. RE2 matches in time linear in the input, so no
// pattern can make it backtrack for ever.
func search(ctx context.Context, env *Env, a searchArgs) (string, error) {
	re, err := regexp.Compile(a.Pattern)
	if err != nil {
		return "", backend.WrapError(backend.EINVALID, err, "pattern %q is not an RE2 regular expression", a.Pattern)
	}
	glob, err := globArg(a.Glob)
	if err != nil {
		return "", err
	}
	lim := env.Limits.withDefaults()
	r, ok, err := openRoot(env)
	if err != nil || !ok {
		return "no match: the output folder is empty", err
	}
	defer r.Close()
	var candidates []entry
	truncated, err := walk(ctx, env, r, glob, lim.MaxVisited, func(e entry) bool {
		candidates = append(candidates, e)
		return true
	})
	if err != nil {
		return "", backend.WrapError(backend.EINTERNAL, err, "search the output folder")
	}
	sort.Slice(candidates, func(i, j int) bool { return candidates[i].path < candidates[j].path })

	var hits []string
	var scanned int64
	var skipped []string
	full := false
	for _, e := range candidates {
		if ctx.Err() != nil {
			return "", backend.WrapError(backend.ECANCELED, ctx.Err(), "search canceled")
		}
		if e.size > lim.MaxFileBytes || scanned+e.size > lim.MaxScanBytes {
			skipped = append(skipped, e.path)
			continue
		}
		text, err := readText(env, e.path)
		if err != nil {
			continue // binary, vanished or out of scope: not searched
		}
		scanned += int64(len(text))
		for i, line := range strings.Split(text, "\n") {
			if !re.MatchString(line) {
				continue
			}
			if len(hits) == lim.MaxHits {
				full = true
				break
			}
			hits = append(hits, fmt.Sprintf("%s:%d: %s", e.path, i+1, clip(line, maxHitLine)))
		}
		if full {
			break
		}
	}
	var b strings.Builder
	if len(hits) == 0 {
		fmt.Fprintf(&b, "no match for %q in the files matching %q\n", a.Pattern, glob)
	}
	for _, h := range hits {
		b.WriteString(h)
		b.WriteByte('\n')
	}
	if full {
		fmt.Fprintf(&b, "[only the first %d matches are shown; narrow the pattern or the glob]\n", lim.MaxHits)
	}
	if len(skipped) > 0 {
		fmt.Fprintf(&b, "[%d files were not searched: over %d bytes each or %d bytes in all]\n",
			len(skipped), lim.MaxFileBytes, lim.MaxScanBytes)
	}
	if truncated {
		fmt.Fprintf(&b, "[the search stopped after %d entries; narrow the glob]\n", lim.MaxVisited)
	}
	return b.String(), nil
}

// clip cuts a line to n bytes on a rune boundary.
func clip(s string, n int) string {
	s = strings.TrimRight(s, "\r")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utfStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func utfStart(b byte) bool { return b&0xC0 != 0x80 }
