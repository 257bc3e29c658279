// Package model wires the model providers: it reads their configuration from
// the environment, builds them, and lists the models they all offer.
package model

import (
	"context"
	"errors"
	"sort"
	"strings"
	"sync"
	"time"

	"factorydesk/backend"
	"factorydesk/backend/model/ollama"
	"factorydesk/backend/model/openai"
)

// Config configures every provider. Zero fields take the providers' defaults.
type Config struct {
	OllamaHost    string        // OLLAMA_HOST
	OpenAIBaseURL string        // OPENAI_BASE_URL
	OpenAIKey     string        // OPENAI_API_KEY
	StallTimeout  time.Duration // FACTORY_MODEL_STALL_TIMEOUT: no data for this long fails a call
	CallTimeout   time.Duration // FACTORY_MODEL_TIMEOUT: the longest a model call may take
}

// ParseEnv reads the configuration from the environment through getenv.
// Durations are Go durations ("90s", "45m"). A malformed or negative one is
// left at its default and reported in the error; the rest of the
// configuration is still returned.
func ParseEnv(getenv func(string) string) (Config, error) {
	cfg := Config{
		OllamaHost:    strings.TrimSpace(getenv("OLLAMA_HOST")),
		OpenAIBaseURL: strings.TrimSpace(getenv("OPENAI_BASE_URL")),
		OpenAIKey:     strings.TrimSpace(getenv("OPENAI_API_KEY")),
	}
	var errs []error
	for _, d := range []struct {
		name string
		dst  *time.Duration
	}{
		{"FACTORY_MODEL_STALL_TIMEOUT", &cfg.StallTimeout},
		{"FACTORY_MODEL_TIMEOUT", &cfg.CallTimeout},
	} {
		s := strings.TrimSpace(getenv(d.name))
		if s == "" {
			continue
		}
		v, err := time.ParseDuration(s)
		if err != nil || v < 0 {
			errs = append(errs, backend.Errorf(backend.EINVALID,
				"%s=%q is not a duration; write it like 90s or 45m", d.name, s))
			continue
		}
		*d.dst = v
	}
	return cfg, errors.Join(errs...)
}

// ConfigFromEnv is ParseEnv without the error: a malformed duration keeps its
// default. Use ParseEnv to tell the operator about it.
func ConfigFromEnv(getenv func(string) string) Config {
	cfg, _ := ParseEnv(getenv)
	return cfg
}

// New builds the providers, keyed by backend.ProviderOllama and
// backend.ProviderOpenAI.
func New(cfg Config) map[string]backend.Provider {
	return map[string]backend.Provider{
		backend.ProviderOllama: ollama.New(ollama.Config{
			Host:         cfg.OllamaHost,
			StallTimeout: cfg.StallTimeout,
			CallTimeout:  cfg.CallTimeout,
		}),
		backend.ProviderOpenAI: openai.New(openai.Config{
			BaseURL:      cfg.OpenAIBaseURL,
			APIKey:       cfg.OpenAIKey,
			StallTimeout: cfg.StallTimeout,
			CallTimeout:  cfg.CallTimeout,
		}),
	}
}

// ListAll asks every provider for its models, all at once. It returns the
// models sorted by provider and name, and the error of each provider that
// could not list (nil when all could): a server that is down spoils only its
// own entry.
func ListAll(ctx context.Context, providers map[string]backend.Provider) ([]backend.ModelInfo, map[string]error) {
	var (
		mu     sync.Mutex
		wg     sync.WaitGroup
		models []backend.ModelInfo
		errs   map[string]error
	)
	for name, p := range providers {
		wg.Go(func() {
			list, err := p.List(ctx)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if errs == nil {
					errs = map[string]error{}
				}
				errs[name] = err
				return
			}
			for _, m := range list {
				if m.Provider == "" {
					m.Provider = name
				}
				models = append(models, m)
			}
		})
	}
	wg.Wait()
	sort.Slice(models, func(i, j int) bool {
		if models[i].Provider != models[j].Provider {
			return models[i].Provider < models[j].Provider
		}
		return models[i].Name < models[j].Name
	})
	return models, errs
}
