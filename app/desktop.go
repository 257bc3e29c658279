//go:build desktop

package app

import (
	"context"
	"io/fs"

	"github.com/wailsapp/wails/v2"
	"github.com/wailsapp/wails/v2/pkg/options"
	"github.com/wailsapp/wails/v2/pkg/options/assetserver"
	wruntime "github.com/wailsapp/wails/v2/pkg/runtime"
)

// DesktopAvailable reports whether this build has the desktop window.
const DesktopAvailable = true

// EventName is the Wails event the frontend listens to for event batches.
const EventName = "factory:events"

// RunDesktop opens the desktop window on the workspace of cfg and returns
// when it is closed. This file is the only code that imports Wails.
func RunDesktop(cfg Config, assets fs.FS) error {
	a, err := New(cfg)
	if err != nil {
		return err
	}
	defer a.shutdown()
	var unsubscribe func()
	return wails.Run(&options.App{
		Title:            "Factory Desk",
		Width:            1280,
		Height:           820,
		MinWidth:         900,
		MinHeight:        560,
		BackgroundColour: &options.RGBA{R: 24, G: 26, B: 31, A: 255},
		AssetServer:      &assetserver.Options{Assets: assets},
		OnStartup: func(ctx context.Context) {
			unsubscribe = a.subscribe(func(batch []Event) { wruntime.EventsEmit(ctx, EventName, batch) })
		},
		OnShutdown: func(context.Context) {
			if unsubscribe != nil {
				unsubscribe()
			}
		},
		Bind: []any{a},
		// A failed call rejects with the same answer as in browser mode.
		ErrorFormatter: func(err error) any { return errorAnswer(err) },
	})
}
