package engine

import "factorydesk/backend"

// stepOptions returns the model options of a step's calls: the step's over
// its role's over the blueprint's, then the run's own (RunOptions.Options)
// over them all. nil when none is set.
func (s *scheduler) stepOptions(step *backend.Step) map[string]any {
	role := s.opts.Roles[step.Role]
	out := s.opts.Blueprint.StepOptions(step, role).Map()
	for k, v := range s.opts.Options {
		if out == nil {
			out = map[string]any{}
		}
		out[k] = v
	}
	return out
}
