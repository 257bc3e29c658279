package model_test

import (
	"net"
	"reflect"
	"strings"
	"testing"
	"time"

	"factorydesk/backend"
	"factorydesk/backend/model"
	"factorydesk/backend/model/modeltest"
	"factorydesk/backend/model/ollama"
	"factorydesk/backend/model/openai"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestParseEnv(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    model.Config
		wantErr string
	}{
		{"empty", nil, model.Config{}, ""},
		{"all", map[string]string{
			"OLLAMA_HOST": "gpu-box:11434", "OPENAI_BASE_URL": "http://127.0.0.1:8000/v1", "OPENAI_API_KEY": "sk-1",
			"FACTORY_MODEL_STALL_TIMEOUT": "90s", "FACTORY_MODEL_TIMEOUT": "45m",
		}, model.Config{OllamaHost: "gpu-box:11434", OpenAIBaseURL: "http://127.0.0.1:8000/v1", OpenAIKey: "sk-1",
			StallTimeout: 90 * time.Second, CallTimeout: 45 * time.Minute}, ""},
		{"bad durations", map[string]string{"FACTORY_MODEL_STALL_TIMEOUT": "soon", "FACTORY_MODEL_TIMEOUT": "-1m", "OLLAMA_HOST": ":1"},
			model.Config{OllamaHost: ":1"}, `FACTORY_MODEL_STALL_TIMEOUT="soon" is not a duration; write it like 90s or 45m
FACTORY_MODEL_TIMEOUT="-1m" is not a duration; write it like 90s or 45m`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := model.ParseEnv(env(tt.env))
			if got != tt.want {
				t.Errorf("config %+v, want %+v", got, tt.want)
			}
			if (err == nil) != (tt.wantErr == "") || (err != nil && err.Error() != tt.wantErr) {
				t.Errorf("error %v, want %q", err, tt.wantErr)
			}
			if got := model.ConfigFromEnv(env(tt.env)); got != tt.want {
				t.Errorf("ConfigFromEnv %+v", got)
			}
		})
	}
}

func TestNew(t *testing.T) {
	ps := model.New(model.Config{OllamaHost: ":9999", OpenAIBaseURL: "http://127.0.0.1:8000/v1/"})
	o, ok := ps[backend.ProviderOllama].(*ollama.Provider)
	if !ok || o.URL() != "http://127.0.0.1:9999" || o.Name() != backend.ProviderOllama {
		t.Errorf("ollama provider %#v", ps[backend.ProviderOllama])
	}
	if _, ok := ps[backend.ProviderOllama].(backend.Puller); !ok {
		t.Errorf("the ollama provider cannot pull")
	}
	a, ok := ps[backend.ProviderOpenAI].(*openai.Provider)
	if !ok || a.URL() != "http://127.0.0.1:8000/v1" || a.Name() != backend.ProviderOpenAI {
		t.Errorf("openai provider %#v", ps[backend.ProviderOpenAI])
	}
	if got := model.New(model.Config{})[backend.ProviderOpenAI].(*openai.Provider).URL(); got != openai.DefaultBaseURL {
		t.Errorf("default base URL %s", got)
	}
}

func TestListAll(t *testing.T) {
	ol := modeltest.NewOllama(t)
	ol.SetModels("llama3.2:1b", "qwen2.5-coder:7b")
	oa := modeltest.NewOpenAI(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := ln.Addr().String()
	ln.Close()

	tests := []struct {
		name      string
		cfg       model.Config
		wantNames []string
		wantErrs  []string // providers that fail
	}{
		{"both up", model.Config{OllamaHost: ol.URL(), OpenAIBaseURL: oa.BaseURL()},
			[]string{"ollama:llama3.2:1b", "ollama:qwen2.5-coder:7b", "openai:gpt-4o-mini"}, nil},
		{"ollama down", model.Config{OllamaHost: down, OpenAIBaseURL: oa.BaseURL()},
			[]string{"openai:gpt-4o-mini"}, []string{backend.ProviderOllama}},
		{"both down", model.Config{OllamaHost: down, OpenAIBaseURL: "http://" + down + "/v1"},
			nil, []string{backend.ProviderOllama, backend.ProviderOpenAI}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			models, errs := model.ListAll(t.Context(), model.New(tt.cfg))
			var names []string
			for _, m := range models {
				names = append(names, m.Provider+":"+m.Name)
			}
			if !reflect.DeepEqual(names, tt.wantNames) {
				t.Errorf("models %v, want %v", names, tt.wantNames)
			}
			if len(errs) != len(tt.wantErrs) {
				t.Errorf("errors %v, want for %v", errs, tt.wantErrs)
			}
			for _, p := range tt.wantErrs {
				if err := errs[p]; err == nil || backend.ErrorCode(err) != backend.EUNAVAILABLE ||
					!strings.Contains(err.Error(), "not reachable") {
					t.Errorf("%s: error %v", p, err)
				}
			}
		})
	}
}
