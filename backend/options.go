package backend

// ModelOptions are the model settings a blueprint, a role or a step may
// give under `options:`. A nil field is not set.
type ModelOptions struct {
	Temperature *float64 `json:"temperature,omitempty"`
	TopP        *float64 `json:"top_p,omitempty"`
	Seed        *int64   `json:"seed,omitempty"`
	NumCtx      *int     `json:"num_ctx,omitempty"`
	MaxTokens   *int     `json:"max_tokens,omitempty"`
	Stop        []string `json:"stop,omitempty"`
}

// Over returns o with every field that over sets taken from over.
func (o ModelOptions) Over(over ModelOptions) ModelOptions {
	if over.Temperature != nil {
		o.Temperature = over.Temperature
	}
	if over.TopP != nil {
		o.TopP = over.TopP
	}
	if over.Seed != nil {
		o.Seed = over.Seed
	}
	if over.NumCtx != nil {
		o.NumCtx = over.NumCtx
	}
	if over.MaxTokens != nil {
		o.MaxTokens = over.MaxTokens
	}
	if over.Stop != nil {
		o.Stop = over.Stop
	}
	return o
}

// Map returns the options as a chat request's Options, under the format's
// names (max_tokens, not Ollama's num_predict: each provider translates).
// It is nil when nothing is set.
func (o ModelOptions) Map() map[string]any {
	m := map[string]any{}
	if o.Temperature != nil {
		m["temperature"] = *o.Temperature
	}
	if o.TopP != nil {
		m["top_p"] = *o.TopP
	}
	if o.Seed != nil {
		m["seed"] = *o.Seed
	}
	if o.NumCtx != nil {
		m["num_ctx"] = *o.NumCtx
	}
	if o.MaxTokens != nil {
		m["max_tokens"] = *o.MaxTokens
	}
	if o.Stop != nil {
		m["stop"] = append([]string(nil), o.Stop...)
	}
	if len(m) == 0 {
		return nil
	}
	return m
}

// StepOptions returns the model options a step runs with: the step's over
// the role's over the blueprint's.
func (b *Blueprint) StepOptions(s *Step, role *Role) ModelOptions {
	o := b.Options
	if role != nil {
		o = o.Over(role.Options)
	}
	return o.Over(s.Options)
}
