package blueprint

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// crossCheck runs the checks that need the whole blueprint: duplicate ids,
// roles, sections, needs and their cycles, and when conditions.
func (c *checker) crossCheck() {
	first := map[string]int{} // step id -> index of its first step
	for i, s := range c.bp.Steps {
		if s.ID == "" {
			continue
		}
		if j, dup := first[s.ID]; dup {
			c.add(c.steps[i].id, "duplicate step id %q (first at line %d): give each step its own id", s.ID, c.bp.Steps[j].Line)
			continue
		}
		first[s.ID] = i
	}
	for i := range c.bp.Steps {
		c.checkRole(i)
		c.checkUses(i)
		c.checkNeeds(i, first)
		c.checkWhen(i)
	}
	c.checkCycles(first)
	c.checkReserved()
}

// checkRole reports a step whose role is not in the library.
func (c *checker) checkRole(i int) {
	role := c.bp.Steps[i].Role
	if c.roles == nil || role == "" {
		return
	}
	if _, ok := c.roles[role]; ok {
		return
	}
	if len(c.roles) == 0 {
		c.add(c.steps[i].role, "unknown role %q: add blueprints/roles/%s.md", role, role)
		return
	}
	names := make([]string, 0, len(c.roles))
	for n := range c.roles {
		names = append(names, n)
	}
	sort.Strings(names)
	c.add(c.steps[i].role, "unknown role %q (%sknown: %s)", role, didYouMean(role, names), strings.Join(names, ", "))
}

// checkUses reports a `uses` entry that names no section of the body.
func (c *checker) checkUses(i int) {
	for k, name := range c.bp.Steps[i].Uses {
		if _, ok := c.bp.Section(name); ok {
			continue
		}
		if len(c.bp.Sections) == 0 {
			c.add(c.steps[i].uses[k], "unknown section %q in uses: the body has no headings; add \"## %s\"", name, name)
			continue
		}
		ids := make([]string, len(c.bp.Sections))
		for j, s := range c.bp.Sections {
			ids[j] = s.ID
		}
		c.add(c.steps[i].uses[k], "unknown section %q in uses (%savailable: %s)", name, didYouMean(Slug(name), ids), strings.Join(ids, ", "))
	}
}

// checkNeeds reports a `needs` entry that names no step.
func (c *checker) checkNeeds(i int, first map[string]int) {
	for k, need := range c.bp.Steps[i].Needs {
		if _, ok := first[need]; ok {
			continue
		}
		ids := make([]string, 0, len(first))
		for _, s := range c.bp.Steps {
			if s.ID != "" && !slices.Contains(ids, s.ID) {
				ids = append(ids, s.ID)
			}
		}
		c.add(c.steps[i].needs[k], "needs: unknown step %q (%ssteps: %s)", need, didYouMean(need, ids), strings.Join(ids, ", "))
	}
}

// checkWhen reports a `when` on a key the blueprint's scope does not have.
func (c *checker) checkWhen(i int) {
	when := c.steps[i].when
	keys := make([]string, 0, len(when))
	for k := range when {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if _, ok := c.bp.Scope[k]; ok {
			continue
		}
		if len(c.bp.Scope) == 0 {
			c.add(when[k], "when: scope has no key %q: add scope: {%s: ...} to the front matter", k, k)
			continue
		}
		have := make([]string, 0, len(c.bp.Scope))
		for s := range c.bp.Scope {
			have = append(have, s)
		}
		sort.Strings(have)
		c.add(when[k], "when: scope has no key %q (scope keys: %s)", k, strings.Join(have, ", "))
	}
}

// checkCycles reports each cycle of `needs` once, at the need of its first
// step (in file order) that leads around it.
func (c *checker) checkCycles(first map[string]int) {
	const (
		unseen = iota
		onPath
		done
	)
	state := make([]int, len(c.bp.Steps))
	var path []int
	reported := map[string]bool{}
	var visit func(u int)
	visit = func(u int) {
		state[u] = onPath
		path = append(path, u)
		for _, need := range c.bp.Steps[u].Needs {
			v, ok := first[need]
			if !ok {
				continue
			}
			switch state[v] {
			case unseen:
				visit(v)
			case onPath:
				c.reportCycle(path[slices.Index(path, v):], reported)
			}
		}
		path = path[:len(path)-1]
		state[u] = done
	}
	for i, s := range c.bp.Steps {
		if s.ID != "" && first[s.ID] == i && state[i] == unseen {
			visit(i)
		}
	}
}

// reportCycle reports the cycle of step indexes (each needing the next, the
// last needing the first) unless it was reported already.
func (c *checker) reportCycle(cycle []int, reported map[string]bool) {
	start := 0
	for k, idx := range cycle {
		if idx < cycle[start] {
			start = k
		}
	}
	rot := append(append([]int(nil), cycle[start:]...), cycle[:start]...)
	ids := make([]string, 0, len(rot)+1)
	for _, idx := range rot {
		ids = append(ids, c.bp.Steps[idx].ID)
	}
	key := strings.Join(ids, " ")
	if reported[key] {
		return
	}
	reported[key] = true
	ids = append(ids, ids[0])
	// The step at rot[0] needs the step at rot[1] (or itself).
	from := rot[0]
	next := ids[1]
	at := c.steps[from].start
	if k := slices.Index(c.bp.Steps[from].Needs, next); k >= 0 && k < len(c.steps[from].needs) {
		at = c.steps[from].needs[k]
	}
	c.add(at, "needs cycle: %s (remove one of these needs)", strings.Join(ids, " -> "))
}

// didYouMean returns `did you mean "x"? ` for the close match of name among
// known, or "".
func didYouMean(name string, known []string) string {
	if s := closest(name, known); s != "" {
		return fmt.Sprintf("did you mean %q? ", s)
	}
	return ""
}
