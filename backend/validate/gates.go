package validate

import (
	"context"

	"factorydesk/backend"
)

// RunGates runs commands in dir one after the other, as a step's validate
// gates run, and stops at the first that fails (or when ctx ends). It
// returns the result of each command run.
func RunGates(ctx context.Context, dir string, cmds []string, opts Options) []backend.GateResult {
	var out []backend.GateResult
	for _, cmd := range cmds {
		g := RunCommand(ctx, dir, cmd, opts)
		out = append(out, g)
		if !g.Passed || ctx.Err() != nil {
			break
		}
	}
	return out
}
