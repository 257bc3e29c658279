package agent

import (
	"context"
	"path/filepath"
	"strings"

	"factorydesk/backend"
	"factorydesk/backend/workspace"
)

// writeMerged writes the answer's files. With req.Generated set, a file
// edited by hand since the factory last generated it is first merged three
// ways with the new answer; a conflict writes nothing and returns the
// *workspace.ConflictError (code ECONFLICT). Merged files carry their parents.
func writeMerged(ctx context.Context, req backend.AttemptRequest, files []backend.File) ([]backend.WrittenFile, error) {
	if req.Generated == nil || req.Blueprint == nil {
		return workspace.WriteFiles(req.OutputDir, files, req.Step.Writes, req.Limits)
	}
	root, ok := workspaceRoot(req.OutputDir, req.Blueprint.Output)
	if !ok {
		return workspace.WriteFiles(req.OutputDir, files, req.Step.Writes, req.Limits)
	}
	m, err := workspace.Merge(ctx, req.Generated, workspace.Regeneration{
		Workspace: root, Output: req.Blueprint.Output, RunID: req.RunID, Files: files,
	})
	if err != nil {
		return nil, err
	}
	written, err := workspace.WriteFiles(req.OutputDir, m.Files, req.Step.Writes, req.Limits)
	for i := range written {
		if p := m.Parents[written[i].Path]; len(p) == 2 {
			written[i].Parents = [2]string{p[0], p[1]}
		}
	}
	return written, err
}

// workspaceRoot derives the workspace root from the absolute output folder
// and the blueprint's output (relative to the root).
func workspaceRoot(outDir, output string) (string, bool) {
	rel := filepath.Clean(filepath.FromSlash(output))
	outDir = filepath.Clean(outDir)
	if rel == "." {
		return outDir, true
	}
	if !strings.HasSuffix(outDir, string(filepath.Separator)+rel) {
		return "", false
	}
	return strings.TrimSuffix(outDir, string(filepath.Separator)+rel), true
}
