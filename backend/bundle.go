package backend

// RunBundle is everything recorded about one run, to move it to another
// workspace: its record, the blueprint version it ran, the roles it ran
// with, its cache keys, its spans and every blob they name (prompts,
// answers, files, roles).
type RunBundle struct {
	Detail        RunDetail         `json:"detail"`
	BlueprintText []byte            `json:"-"`
	Roles         map[string]string `json:"roles"`     // role name -> blob hash
	StepKeys      []StepKey         `json:"step_keys"` // by step
	Spans         []Span            `json:"spans"`
	Blobs         map[string][]byte `json:"-"` // by sha256 hex
	// Trusted is the importer's word that the run may feed the step cache
	// of local runs (factory import --trust); it is not part of a bundle.
	Trusted bool `json:"-"`
}
