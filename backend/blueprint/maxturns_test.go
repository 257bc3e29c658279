package blueprint

import (
	"testing"

	"factorydesk/backend"
)

func TestMaxTurns(t *testing.T) {
	role, diags := ParseRole("blueprints/roles/dev.md", []byte("---\nrole: dev\ndescription: Develops.\nskills: [read_file]\nmax_turns: 5\n---\nYou develop.\n"))
	if len(diags) > 0 || role.MaxTurns != 5 {
		t.Fatalf("role max_turns %d: %v", role.MaxTurns, diags)
	}
	plain := &backend.Role{Name: "plain", Description: "x", Prompt: "x"}
	roles := map[string]*backend.Role{"dev": role, "plain": plain}
	src := "---\nblueprint: turns\nmax_turns: 12\nsteps:\n" +
		"  - {id: a, role: dev, max_turns: 2}\n  - {id: b, role: dev}\n  - {id: c, role: plain}\n---\n# Turns\n"
	bp, diags := Parse("blueprints/turns.md", []byte(src), roles)
	if len(diags) > 0 {
		t.Fatal(diags)
	}
	for _, tt := range []struct {
		step string
		want int
	}{{"a", 2}, {"b", 5}, {"c", 12}} {
		st, _ := bp.Step(tt.step)
		if got := bp.StepMaxTurns(st, roles[st.Role]); got != tt.want {
			t.Errorf("step %s: %d turns, want %d", tt.step, got, tt.want)
		}
	}
	bp.MaxTurns = 0
	st, _ := bp.Step("c")
	if got := bp.StepMaxTurns(st, plain); got != backend.DefaultMaxTurns {
		t.Errorf("default: %d", got)
	}
}
