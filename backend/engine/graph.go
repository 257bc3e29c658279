package engine

import (
	"container/heap"
	"math/bits"
	"strings"

	"factorydesk/backend"
)

// graph is a blueprint's steps as a DAG, indexed in blueprint order.
type graph struct {
	steps      []*backend.Step
	needs      [][]int // direct upstream steps
	dependents [][]int // direct downstream steps
	ancestors  []bitset
}

// newGraph builds the graph of bp's steps; an unknown or duplicate step id,
// or a cycle, is EINVALID.
func newGraph(bp *backend.Blueprint) (*graph, error) {
	n := len(bp.Steps)
	g := &graph{
		steps:      make([]*backend.Step, n),
		needs:      make([][]int, n),
		dependents: make([][]int, n),
		ancestors:  make([]bitset, n),
	}
	index := make(map[string]int, n)
	for i := range bp.Steps {
		g.steps[i] = &bp.Steps[i]
		if _, dup := index[bp.Steps[i].ID]; dup {
			return nil, backend.Errorf(backend.EINVALID, "blueprint %s: duplicate step id %q", bp.ID, bp.Steps[i].ID)
		}
		index[bp.Steps[i].ID] = i
	}
	for i, s := range g.steps {
		for _, need := range s.Needs {
			j, ok := index[need]
			if !ok {
				return nil, backend.Errorf(backend.EINVALID, "blueprint %s: step %q needs unknown step %q", bp.ID, s.ID, need)
			}
			g.needs[i] = append(g.needs[i], j)
			g.dependents[j] = append(g.dependents[j], i)
		}
	}
	order, err := g.topoOrder(bp.ID)
	if err != nil {
		return nil, err
	}
	for _, i := range order {
		a := newBitset(n)
		for _, j := range g.needs[i] {
			a.set(j)
			a.union(g.ancestors[j])
		}
		g.ancestors[i] = a
	}
	return g, nil
}

// topoOrder returns the steps in a topological order, or EINVALID naming
// the steps caught in a cycle.
func (g *graph) topoOrder(blueprintID string) ([]int, error) {
	n := len(g.steps)
	indeg := make([]int, n)
	var order, queue []int
	for i := range g.steps {
		indeg[i] = len(g.needs[i])
		if indeg[i] == 0 {
			queue = append(queue, i)
		}
	}
	for len(queue) > 0 {
		i := queue[0]
		queue = queue[1:]
		order = append(order, i)
		for _, d := range g.dependents[i] {
			if indeg[d]--; indeg[d] == 0 {
				queue = append(queue, d)
			}
		}
	}
	if len(order) < n {
		var cyclic []string
		for i, d := range indeg {
			if d > 0 {
				cyclic = append(cyclic, g.steps[i].ID)
			}
		}
		return nil, backend.Errorf(backend.EINVALID, "blueprint %s: steps %s form a needs cycle", blueprintID, strings.Join(cyclic, ", "))
	}
	return order, nil
}

// bitset is a fixed-size set of step indexes.
type bitset []uint64

func newBitset(n int) bitset { return make(bitset, (n+63)/64) }

func (b bitset) set(i int) { b[i/64] |= 1 << (i % 64) }

func (b bitset) union(o bitset) {
	for k := range b {
		b[k] |= o[k]
	}
}

// each calls fn with each member, in increasing order.
func (b bitset) each(fn func(int)) {
	for k, w := range b {
		for w != 0 {
			t := bits.TrailingZeros64(w)
			fn(k*64 + t)
			w &^= 1 << t
		}
	}
}

// readyQueue holds the steps ready to start, lowest index (blueprint order)
// first.
type readyQueue []int

func (q readyQueue) Len() int           { return len(q) }
func (q readyQueue) Less(i, j int) bool { return q[i] < q[j] }
func (q readyQueue) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }

// Push implements heap.Interface.
func (q *readyQueue) Push(x any) { *q = append(*q, x.(int)) }

// Pop implements heap.Interface.
func (q *readyQueue) Pop() any {
	old := *q
	x := old[len(old)-1]
	*q = old[:len(old)-1]
	return x
}

func (q *readyQueue) push(i int) { heap.Push(q, i) }
func (q *readyQueue) pop() int   { return heap.Pop(q).(int) }
