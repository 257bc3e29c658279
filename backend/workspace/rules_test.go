package workspace

import (
	"slices"
	"testing"
	"time"
)

func TestIgnored(t *testing.T) {
	tests := []struct {
		rel  string
		want bool
	}{
		{"out/orders.go", false},
		{"blueprints/orders.md", false},
		{".", false},
		{".factory", true},
		{".factory/factory.db", true},
		{".git/HEAD", true},
		{"out/.git/config", true},
		{"node_modules/react/index.js", true},
		{"out/web/node_modules/x.js", true},
		{"out/node_modules_notes.md", false},
		{"out/.factory-tmp-0a1b2c3d", true},
		{"out/.orders.go.swp", true},
		{"out/orders.go~", true},
		{"out/4913", true},
		{"out/.#orders.go", true},
		{"out/#orders.go#", true},
		{"out/orders.go___jb_tmp___", true},
		{"out/.gitignore", false},
		{"out/.github/workflows/ci.yml", false},
	}
	for _, tt := range tests {
		t.Run(tt.rel, func(t *testing.T) {
			if got := Ignored(tt.rel); got != tt.want {
				t.Errorf("Ignored(%q) = %v, want %v", tt.rel, got, tt.want)
			}
		})
	}
}

func TestIsBlueprint(t *testing.T) {
	tests := []struct {
		rel  string
		want bool
	}{
		{"blueprints/orders.md", true},
		{"blueprints/roles/architect.md", true},
		{"blueprints/roles/team/reviewer.MD", true},
		{"blueprints/notes.txt", false},
		{"blueprints/.#orders.md", false},
		{"blueprints/node_modules/x.md", false},
		{"out/blueprints/orders.md", false},
		{"blueprints.md", false},
		{"README.md", false},
	}
	for _, tt := range tests {
		t.Run(tt.rel, func(t *testing.T) {
			if got := IsBlueprint(tt.rel); got != tt.want {
				t.Errorf("IsBlueprint(%q) = %v, want %v", tt.rel, got, tt.want)
			}
		})
	}
}

func TestUnder(t *testing.T) {
	tests := []struct {
		name     string
		rel, dir string
		want     bool
	}{
		{"inside", "out/api/x.go", "out", true},
		{"itself", "out", "out", true},
		{"sibling with the same prefix", "output/x.go", "out", false},
		{"root", "out/x.go", ".", true},
		{"outside", "blueprints/a.md", "out", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := under(tt.rel, tt.dir); got != tt.want {
				t.Errorf("under(%q, %q) = %v, want %v", tt.rel, tt.dir, got, tt.want)
			}
		})
	}
}

func TestDebouncer(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
	type touch struct {
		key string
		at  int
	}
	tests := []struct {
		name    string
		touches []touch
		at      int
		ready   []string
		left    int
	}{
		{"nothing pending", nil, 1000, nil, 0},
		{"not quiet yet", []touch{{"a", 0}}, 99, nil, 1},
		{"quiet", []touch{{"a", 0}}, 100, []string{"a"}, 0},
		{"a burst is one", []touch{{"a", 0}, {"a", 50}, {"a", 90}, {"a", 140}}, 239, nil, 1},
		{"a burst ends", []touch{{"a", 0}, {"a", 50}, {"a", 90}, {"a", 140}}, 240, []string{"a"}, 0},
		{"per path, sorted", []touch{{"b", 0}, {"a", 10}, {"c", 80}}, 120, []string{"a", "b"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDebouncer(100 * time.Millisecond)
			for _, tc := range tt.touches {
				d.touch(tc.key, ms(tc.at))
			}
			if got := d.ready(ms(tt.at)); !slices.Equal(got, tt.ready) {
				t.Errorf("ready = %v, want %v", got, tt.ready)
			}
			if d.len() != tt.left {
				t.Errorf("left = %d, want %d", d.len(), tt.left)
			}
			if _, ok := d.next(); ok != (tt.left > 0) {
				t.Errorf("next reports pending = %v with %d left", ok, tt.left)
			}
		})
	}
}
