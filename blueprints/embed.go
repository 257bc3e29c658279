// Package blueprints holds the example blueprints and the role library that
// `factory init` copies into a new workspace.
package blueprints

import "embed"

// FS holds the example blueprints (*.md) and the role library (roles/*.md),
// at the same paths they take under a workspace's blueprints/ folder.
//
//go:embed *.md roles/*.md
var FS embed.FS
