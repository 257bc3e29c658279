package validate

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"factorydesk/backend"
)

// SecretsGate is the name of the built-in secrets check.
const SecretsGate = "secrets"

// maxScanBytes bounds how much of one file the secrets scan reads.
const maxScanBytes = 8 << 20

// credentialPatterns are well-known credential shapes that must never be
// generated into an output, whatever the blueprint declares.
var credentialPatterns = []struct {
	name string
	re   *regexp.Regexp
}{
	{"an AWS access key id", regexp.MustCompile(`\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA)[0-9A-Z]{16}\b`)},
	{"a private key", regexp.MustCompile(`-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----`)},
	{"a GitHub token", regexp.MustCompile(`\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})\b`)},
}

// Secrets scans every regular file under dir for the given secret values
// (name -> value; empty values are ignored) and for common credential
// patterns. The result names the file, line and secret, never the value.
func Secrets(ctx context.Context, dir string, secrets map[string]string) backend.GateResult {
	start := time.Now()
	res := backend.GateResult{Name: SecretsGate, ExitCode: 0}
	names := make([]string, 0, len(secrets))
	for name, v := range secrets {
		if v != "" {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	var findings []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() && d.Name() == ".git" {
			return filepath.SkipDir
		}
		if !d.Type().IsRegular() {
			return nil
		}
		data, err := readHead(path, maxScanBytes)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		findings = append(findings, scanFile(filepath.ToSlash(rel), data, names, secrets)...)
		return nil
	})
	res.Duration = time.Since(start)
	if err != nil {
		res.ExitCode = -1
		res.Output = fmt.Sprintf("secrets scan of %s: %v", dir, err)
		return res
	}
	if len(findings) > 0 {
		res.ExitCode = 1
		res.Output = strings.Join(findings, "\n")
		return res
	}
	res.Passed = true
	return res
}

// ScanFiles is the secrets gate on some files of dir (slash-separated paths
// relative to it): no secret value, no common credential. A missing file
// is skipped.
func ScanFiles(dir string, paths []string, secrets map[string]string) backend.GateResult {
	start := time.Now()
	res := backend.GateResult{Name: SecretsGate}
	names := make([]string, 0, len(secrets))
	for name, v := range secrets {
		if v != "" {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	var findings []string
	for _, p := range paths {
		data, err := readHead(filepath.Join(dir, filepath.FromSlash(p)), maxScanBytes)
		if err != nil {
			continue
		}
		findings = append(findings, scanFile(p, data, names, secrets)...)
	}
	res.Duration = time.Since(start)
	if len(findings) > 0 {
		res.ExitCode = 1
		res.Output = strings.Join(findings, "\n")
		return res
	}
	res.Passed = true
	return res
}

// scanFile reports each secret value and credential pattern found in data.
func scanFile(rel string, data []byte, names []string, secrets map[string]string) []string {
	var out []string
	for _, name := range names {
		if i := bytes.Index(data, []byte(secrets[name])); i >= 0 {
			out = append(out, fmt.Sprintf("%s:%d: contains the value of secret %s", rel, lineOf(data, i), name))
		}
	}
	for _, p := range credentialPatterns {
		if loc := p.re.FindIndex(data); loc != nil {
			out = append(out, fmt.Sprintf("%s:%d: contains what looks like %s", rel, lineOf(data, loc[0]), p.name))
		}
	}
	return out
}

// lineOf returns the 1-based line of byte offset i in data.
func lineOf(data []byte, i int) int { return bytes.Count(data[:i], []byte{'\n'}) + 1 }

// readHead reads at most n bytes of a file.
func readHead(path string, n int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, n))
}
