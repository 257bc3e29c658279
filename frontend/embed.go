// Package frontend embeds the built web UI (frontend/dist, made by
// `npm run build`) so one binary serves the desktop window and browser mode.
package frontend

import "embed"

// Dist holds dist/ as built by Vite; its index.html is the app's entry page.
//
//go:embed all:dist
var Dist embed.FS
