package app

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"

	"factorydesk/backend"
	"factorydesk/backend/model"
)

// SettingsPath is where a workspace's settings live, relative to its root.
const SettingsPath = ".factory/settings.json"

// Settings are the operator's choices for a workspace. The OpenAI key is
// never sent back to the UI, only whether one is set.
type Settings struct {
	OllamaHost    string `json:"ollama_host"`
	OpenAIBaseURL string `json:"openai_base_url"`
	OpenAIKeySet  bool   `json:"openai_api_key_set"`
	Parallel      int    `json:"parallel"`
	Sandbox       string `json:"sandbox"`

	openAIKey string
}

// settingsFile is the JSON stored on disk.
type settingsFile struct {
	OllamaHost    string `json:"ollama_host,omitempty"`
	OpenAIBaseURL string `json:"openai_base_url,omitempty"`
	OpenAIKey     string `json:"openai_api_key,omitempty"`
	Parallel      int    `json:"parallel,omitempty"`
	Sandbox       string `json:"sandbox,omitempty"`
}

// SettingsUpdate changes some settings; empty fields are left as they are.
type SettingsUpdate struct {
	OllamaHost    *string `json:"ollama_host,omitempty"`
	OpenAIBaseURL *string `json:"openai_base_url,omitempty"`
	OpenAIKey     *string `json:"openai_api_key,omitempty"`
	Parallel      *int    `json:"parallel,omitempty"`
	Sandbox       *string `json:"sandbox,omitempty"`
}

// loadSettings reads the workspace's settings, with the environment's
// provider configuration as defaults.
func loadSettings(root string, getenv func(string) string) (Settings, error) {
	env := model.ConfigFromEnv(getenv)
	s := Settings{OllamaHost: env.OllamaHost, OpenAIBaseURL: env.OpenAIBaseURL, openAIKey: env.OpenAIKey, Parallel: runtime.NumCPU(), Sandbox: "auto"}
	data, err := os.ReadFile(filepath.Join(root, SettingsPath))
	if errors.Is(err, fs.ErrNotExist) {
		s.OpenAIKeySet = s.openAIKey != ""
		return s, nil
	}
	if err != nil {
		return s, backend.WrapError(backend.EINTERNAL, err, "reading %s", SettingsPath)
	}
	var f settingsFile
	if err := json.Unmarshal(data, &f); err != nil {
		return s, backend.WrapError(backend.EINVALID, err, "%s is not valid JSON", SettingsPath)
	}
	if f.OllamaHost != "" {
		s.OllamaHost = f.OllamaHost
	}
	if f.OpenAIBaseURL != "" {
		s.OpenAIBaseURL = f.OpenAIBaseURL
	}
	if f.OpenAIKey != "" {
		s.openAIKey = f.OpenAIKey
	}
	if f.Parallel > 0 {
		s.Parallel = f.Parallel
	}
	if f.Sandbox != "" {
		s.Sandbox = f.Sandbox
	}
	s.OpenAIKeySet = s.openAIKey != ""
	return s, nil
}

// modelConfig is the provider configuration these settings describe.
func (s Settings) modelConfig(getenv func(string) string) model.Config {
	cfg := model.ConfigFromEnv(getenv)
	cfg.OllamaHost, cfg.OpenAIBaseURL, cfg.OpenAIKey = s.OllamaHost, s.OpenAIBaseURL, s.openAIKey
	return cfg
}

func (a *App) currentSettings() Settings {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.settings
}

// Settings returns the workspace's settings.
func (a *App) Settings() (Settings, error) { return a.currentSettings(), nil }

// SaveSettings changes settings and writes them to the workspace.
func (a *App) SaveSettings(u SettingsUpdate) (Settings, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := a.settings
	if u.OllamaHost != nil {
		s.OllamaHost = *u.OllamaHost
	}
	if u.OpenAIBaseURL != nil {
		s.OpenAIBaseURL = *u.OpenAIBaseURL
	}
	if u.OpenAIKey != nil {
		s.openAIKey = *u.OpenAIKey
	}
	if u.Parallel != nil {
		if *u.Parallel < 1 {
			return a.settings, backend.Errorf(backend.EINVALID, "parallel must be at least 1")
		}
		s.Parallel = *u.Parallel
	}
	if u.Sandbox != nil {
		switch *u.Sandbox {
		case "auto", "required", "off":
			s.Sandbox = *u.Sandbox
		default:
			return a.settings, backend.Errorf(backend.EINVALID, "sandbox must be auto, required or off, not %q", *u.Sandbox)
		}
	}
	s.OpenAIKeySet = s.openAIKey != ""
	f := settingsFile{OllamaHost: s.OllamaHost, OpenAIBaseURL: s.OpenAIBaseURL, OpenAIKey: s.openAIKey, Parallel: s.Parallel, Sandbox: s.Sandbox}
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return a.settings, err
	}
	path := filepath.Join(a.cfg.Root, SettingsPath)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return a.settings, err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return a.settings, err
	}
	if err := os.Rename(tmp, path); err != nil {
		return a.settings, err
	}
	a.settings = s
	return s, nil
}

// ModelList is the models of every provider, and why a provider could not list.
type ModelList struct {
	Models []backend.ModelInfo `json:"models"`
	Errors map[string]string   `json:"errors,omitempty"`
}

// Models lists the models each provider offers.
func (a *App) Models() (ModelList, error) {
	s := a.currentSettings()
	providers := model.New(s.modelConfig(a.cfg.Getenv))
	if !s.OpenAIKeySet && s.OpenAIBaseURL == "" {
		// Not configured: listing api.openai.com without a key only fails.
		delete(providers, backend.ProviderOpenAI)
	}
	models, errs := model.ListAll(a.ctx, providers)
	out := ModelList{Models: nonNil(models), Errors: map[string]string{}}
	for name, err := range errs {
		out.Errors[name] = err.Error()
	}
	return out, nil
}

// PullModel starts pulling an Ollama model; progress arrives as "pull" events.
func (a *App) PullModel(name string) error {
	s := a.currentSettings()
	puller, ok := model.New(s.modelConfig(a.cfg.Getenv))[backend.ProviderOllama].(backend.Puller)
	if !ok {
		return backend.Errorf(backend.EINTERNAL, "the ollama provider cannot pull")
	}
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		err := puller.Pull(a.ctx, name, func(p backend.PullProgress) {
			a.emit(Event{Kind: "pull", Name: name, Status: p.Status, Completed: p.Completed, Total: p.Total})
		})
		if err != nil {
			a.emit(Event{Kind: "pull", Name: name, Status: "error", Message: err.Error()})
			return
		}
		a.emit(Event{Kind: "pull", Name: name, Status: "success"})
	}()
	return nil
}

// DeleteModel removes an Ollama model.
func (a *App) DeleteModel(name string) error {
	s := a.currentSettings()
	d, ok := model.New(s.modelConfig(a.cfg.Getenv))[backend.ProviderOllama].(interface {
		Delete(ctx context.Context, name string) error
	})
	if !ok {
		return backend.Errorf(backend.EINTERNAL, "the ollama provider cannot delete models")
	}
	return d.Delete(a.ctx, name)
}
