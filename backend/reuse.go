package backend

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
)

// Run kinds: how a run came to be.
const (
	KindReplay = "replay" // every model call answered from the record of its parent
	KindFork   = "fork"   // re-ran from a step of its parent, reusing the upstream outputs
)

// CallSite names the step attempt a model call is made for. The engine puts
// it in the context of every attempt, so that a provider answering from a
// record (replay) can find the recorded call by position.
type CallSite struct {
	RunID   string
	StepID  string
	Attempt int
}

type callSiteKey struct{}

// WithCallSite returns ctx carrying site.
func WithCallSite(ctx context.Context, site CallSite) context.Context {
	return context.WithValue(ctx, callSiteKey{}, site)
}

// CallSiteFrom returns the call site ctx carries, if any.
func CallSiteFrom(ctx context.Context) (CallSite, bool) {
	s, ok := ctx.Value(callSiteKey{}).(CallSite)
	return s, ok
}

// StoredRequest is a model request as it is stored (the blob a ModelCall's
// PromptHash names): what the model was asked, without the model's name.
type StoredRequest struct {
	Messages []Message       `json:"messages"`
	Schema   json.RawMessage `json:"schema,omitempty"`
	Options  map[string]any  `json:"options,omitempty"`
	Tools    []Tool          `json:"tools,omitempty"`
}

// RequestBlob returns the stored form of a request and its sha256 hex: the
// PromptHash its call is recorded under.
func RequestBlob(req ChatRequest) ([]byte, string, error) {
	data, err := json.Marshal(StoredRequest{Messages: req.Messages, Schema: req.Schema, Options: req.Options, Tools: req.Tools})
	if err != nil {
		return nil, "", WrapError(EINVALID, err, "encode the model request")
	}
	sum := sha256.Sum256(data)
	return data, hex.EncodeToString(sum[:]), nil
}

// StepKey links a step of a run to its cache key and, when the step reused
// recorded outputs instead of running, to the run they came from.
type StepKey struct {
	RunID     string `json:"run_id"`
	StepID    string `json:"step"`
	Key       string `json:"key"`                  // sha256 hex of everything the step's output depends on
	SourceRun string `json:"source_run,omitempty"` // the run whose outputs were reused; "" when the step ran
}

// ReuseStore keeps what lets later runs reuse a run's work: the role texts
// it ran with, and the cache keys of its steps. Every method is one
// transaction.
type ReuseStore interface {
	// SaveRunRoles records the roles a run used, as role name -> blob hash
	// of the role file (idempotent).
	SaveRunRoles(ctx context.Context, runID string, roles map[string]string) error
	// RunRoles returns what SaveRunRoles recorded for a run.
	RunRoles(ctx context.Context, runID string) (map[string]string, error)
	// SaveStepKey records a step's cache key and source (insert or replace).
	SaveStepKey(ctx context.Context, k *StepKey) error
	// StepKeys returns the keys recorded for a run's steps, by step id.
	StepKeys(ctx context.Context, runID string) (map[string]StepKey, error)
	// CachedStep returns the newest run, other than exceptRun, whose step
	// with this key succeeded; "" when there is none.
	CachedStep(ctx context.Context, key, exceptRun string) (runID, stepID string, err error)
	// StepOutputs returns the files a step of a run left: for each path its
	// artifact of the latest attempt that wrote it, by path.
	StepOutputs(ctx context.Context, runID, stepID string) ([]Artifact, error)
	// CachedOutputs is CachedStep and StepOutputs of what it finds, read
	// in one transaction; runID "" when there is none.
	CachedOutputs(ctx context.Context, key, exceptRun string) (runID string, arts []Artifact, err error)
	// RecordReuse records, in one transaction, the artifacts a step took
	// from another run (their blobs are stored already) and its key.
	RecordReuse(ctx context.Context, k *StepKey, arts []Artifact) error
}
