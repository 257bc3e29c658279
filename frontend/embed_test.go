package frontend

import (
	"io/fs"
	"regexp"
	"testing"
)

// TestDistIsComplete checks that the embedded UI has its page and every
// script and stylesheet the page loads.
func TestDistIsComplete(t *testing.T) {
	page, err := fs.ReadFile(Dist, "dist/index.html")
	if err != nil {
		t.Fatalf("dist/index.html is not embedded (run npm run build in frontend/): %v", err)
	}
	refs := regexp.MustCompile(`(?:src|href)="\./(assets/[^"]+)"`).FindAllStringSubmatch(string(page), -1)
	if len(refs) == 0 {
		t.Fatalf("dist/index.html references no assets:\n%s", page)
	}
	for _, r := range refs {
		t.Run(r[1], func(t *testing.T) {
			info, err := fs.Stat(Dist, "dist/"+r[1])
			if err != nil {
				t.Fatalf("index.html loads %s, which is not embedded: %v", r[1], err)
			}
			if info.Size() == 0 {
				t.Fatalf("%s is empty", r[1])
			}
		})
	}
}
