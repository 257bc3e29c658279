package workspace

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"
	"unicode"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// Names that some file systems or readers mistake, checked for every
// segment of a path a step writes: invisible or reordering characters
// (a right-to-left override turns "exe.txt" around on screen), letters of
// several scripts mixed to look like another name, Windows' device names
// and characters, and names that collide on a case-insensitive or
// normalising file system (macOS, Windows) with another file.

// bidiAndInvisible are format characters that change how a name reads
// without showing: bidirectional controls, zero-width characters, the BOM.
var bidiAndInvisible = map[rune]bool{
	0x061C: true, 0x200B: true, 0x200C: true, 0x200D: true, 0x200E: true, 0x200F: true,
	0x202A: true, 0x202B: true, 0x202C: true, 0x202D: true, 0x202E: true,
	0x2060: true, 0x2066: true, 0x2067: true, 0x2068: true, 0x2069: true, 0xFEFF: true,
}

// windowsDevices are names Windows reserves for devices, with any extension.
var windowsDevices = map[string]bool{
	"con": true, "prn": true, "aux": true, "nul": true, "conin$": true, "conout$": true,
	"com1": true, "com2": true, "com3": true, "com4": true, "com5": true, "com6": true, "com7": true, "com8": true, "com9": true,
	"com¹": true, "com²": true, "com³": true,
	"lpt1": true, "lpt2": true, "lpt3": true, "lpt4": true, "lpt5": true, "lpt6": true, "lpt7": true, "lpt8": true, "lpt9": true,
	"lpt¹": true, "lpt²": true, "lpt³": true,
}

// segmentReason checks one name of a path; "" means it is safe everywhere.
func segmentReason(seg string) string {
	for _, c := range seg {
		switch {
		case bidiAndInvisible[c], unicode.Is(unicode.Cf, c):
			return fmt.Sprintf("invisible or bidirectional control character %U in the name", c)
		case strings.ContainsRune(`<>:"|?*`, c):
			return fmt.Sprintf("%q in the name: Windows cannot store it", c)
		}
	}
	base, _, _ := strings.Cut(seg, ".")
	if windowsDevices[strings.ToLower(strings.TrimRight(base, " "))] {
		return fmt.Sprintf("%q is a device name on Windows", seg)
	}
	if strings.HasSuffix(seg, ".") || strings.HasSuffix(seg, " ") {
		return "the name ends with a dot or space, which Windows drops"
	}
	// Each part between dots on its own: "данные.go" is honest.
	for _, part := range strings.Split(seg, ".") {
		if s := mixedScripts(part); s != "" {
			return fmt.Sprintf("the name mixes scripts (%s), so it can pass for another name", s)
		}
	}
	return ""
}

// compatibleScripts are scripts a name may mix, as Unicode's highly
// restrictive profile (UTS #39) allows: Latin with Japanese, Chinese or
// Korean writing.
var compatibleScripts = []map[string]bool{
	{"Latin": true, "Han": true, "Hiragana": true, "Katakana": true},
	{"Latin": true, "Han": true, "Bopomofo": true},
	{"Latin": true, "Han": true, "Hangul": true},
}

// mixedScripts returns the scripts of a name's letters joined by "+" when
// they are not one script or an allowed mix, else "".
func mixedScripts(seg string) string {
	seen := map[string]bool{}
	var names []string
	for _, c := range seg {
		if !unicode.IsLetter(c) {
			continue
		}
		s := "Latin"
		if c >= 0x80 {
			s = scriptOf(c)
		}
		if !seen[s] {
			seen[s] = true
			names = append(names, s)
		}
	}
	if len(names) < 2 {
		return ""
	}
	for _, ok := range compatibleScripts {
		all := true
		for _, s := range names {
			all = all && ok[s]
		}
		if all {
			return ""
		}
	}
	return strings.Join(names, "+")
}

// scriptOf names the Unicode script of a letter ("" when it has none).
func scriptOf(c rune) string {
	for name, table := range unicode.Scripts {
		if unicode.Is(table, c) {
			return name
		}
	}
	return ""
}

// foldName is the key under which two names collide on a case-insensitive,
// normalising file system.
func foldName(p string) string {
	return cases.Fold().String(norm.NFC.String(p))
}

// collisionReason returns why p would collide with a file of the answer
// (keys: folded paths of the files checked so far) or with a file already
// in its folder under r; "" when it does not. It records p's key.
func collisionReason(r *os.Root, p string, keys map[string]string) string {
	key := foldName(p)
	if other, ok := keys[key]; ok && other != p {
		return fmt.Sprintf("differs from %q of the same answer only by case or Unicode normalisation", other)
	}
	keys[key] = p
	entries, err := fs.ReadDir(r.FS(), path.Dir(p))
	if err != nil {
		return ""
	}
	base := path.Base(p)
	for _, e := range entries {
		if e.Name() != base && foldName(e.Name()) == foldName(base) {
			return fmt.Sprintf("differs from %q, already in its folder, only by case or Unicode normalisation", path.Join(path.Dir(p), e.Name()))
		}
	}
	return ""
}
