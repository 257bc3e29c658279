package validate

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

func TestSecrets(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		files   map[string]string
		secrets map[string]string
		passed  bool
		finding string
	}{
		{name: "clean", files: map[string]string{"main.go": "package main\n", "cfg/app.yaml": "db: ${DB_PASSWORD}\n"}, secrets: map[string]string{"DB_PASSWORD": "pa55-w0rd-x"}, passed: true},
		{name: "declared secret", files: map[string]string{"cfg/app.yaml": "name: svc\ndb: pa55-w0rd-x\n"}, secrets: map[string]string{"DB_PASSWORD": "pa55-w0rd-x"}, finding: "cfg/app.yaml:2: contains the value of secret DB_PASSWORD"},
		{name: "empty secret ignored", files: map[string]string{"a.txt": "anything\n"}, secrets: map[string]string{"UNSET": ""}, passed: true},
		{name: "aws key", files: map[string]string{"deploy.sh": "export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\n"}, finding: "deploy.sh:1: contains what looks like an AWS access key id"},
		{name: "private key", files: map[string]string{"k/id": "x\n-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n"}, finding: "k/id:2: contains what looks like a private key"},
		{name: "github token", files: map[string]string{"ci.yml": "token: ghp_" + strings.Repeat("a1B2", 9) + "\n"}, finding: "ci.yml:1: contains what looks like a GitHub token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			for p, c := range tt.files {
				writeFile(t, filepath.Join(dir, p), c)
			}
			r := Secrets(context.Background(), dir, tt.secrets)
			if r.Passed != tt.passed {
				t.Fatalf("passed = %v, want %v; output: %s", r.Passed, tt.passed, r.Output)
			}
			if !strings.Contains(r.Output, tt.finding) {
				t.Errorf("output %q does not contain %q", r.Output, tt.finding)
			}
			for _, v := range tt.secrets {
				if v != "" && strings.Contains(r.Output, v) {
					t.Errorf("output reveals the secret value: %s", r.Output)
				}
			}
		})
	}
}
