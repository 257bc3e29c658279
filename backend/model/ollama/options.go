package ollama

// ollamaOptions returns a request's options under Ollama's names: the
// format's max_tokens is Ollama's num_predict. The request's map is not
// changed.
func ollamaOptions(opts map[string]any) map[string]any {
	v, ok := opts["max_tokens"]
	if !ok {
		return opts
	}
	out := make(map[string]any, len(opts))
	for k, x := range opts {
		if k != "max_tokens" {
			out[k] = x
		}
	}
	if _, set := out["num_predict"]; !set {
		out["num_predict"] = v
	}
	return out
}
