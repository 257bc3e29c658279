package engine

import (
	"context"
	"fmt"

	"factorydesk/backend"
	"factorydesk/backend/validate"
)

// Built-in checks a blueprint may name in `checks`.
const (
	// CheckScope always passes: every write is confined to its step's
	// `writes` globs and the output folder when it is made.
	CheckScope = "scope"
	// CheckSecrets fails when an output file holds the value of a secret the
	// blueprint names, or a common credential.
	CheckSecrets = validate.SecretsGate
)

// runChecks runs the blueprint's checks in the output folder, in order, and
// returns the run's status and, for the first failing check, why.
func (s *scheduler) runChecks(ctx context.Context) (status, msg string) {
	for _, check := range s.opts.Blueprint.Checks {
		g := s.runCheck(ctx, check)
		s.emitGate("", 0, g)
		if ctx.Err() != nil {
			return backend.StatusCanceled, "canceled"
		}
		if !g.Passed {
			return backend.StatusFailed, fmt.Sprintf("check %s failed: %s", check, validate.Feedback(g))
		}
	}
	return backend.StatusSucceeded, ""
}

// runCheck runs one check: a built-in or a command.
func (s *scheduler) runCheck(ctx context.Context, check string) backend.GateResult {
	switch check {
	case CheckScope:
		return backend.GateResult{Name: CheckScope, Passed: true}
	case CheckSecrets:
		values := make(map[string]string, len(s.opts.Blueprint.Secrets))
		for _, name := range s.opts.Blueprint.Secrets {
			values[name] = s.e.cfg.Getenv(name)
		}
		return validate.Secrets(ctx, s.outDir, values)
	}
	return validate.RunCommand(ctx, s.outDir, check, s.gateOptions())
}
