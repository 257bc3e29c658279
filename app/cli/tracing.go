package cli

import (
	"context"
	"fmt"
	"time"

	"factorydesk/backend"
	"factorydesk/backend/agent"
	"factorydesk/backend/engine"
	"factorydesk/backend/sqlite"
	"factorydesk/backend/trace"
)

// flushTimeout bounds how long the command waits at exit for its spans to
// reach the database and the OTLP endpoint.
const flushTimeout = 5 * time.Second

// tracing sets up the spans of a run of bp: to the workspace database and
// to the OTLP endpoint the standard OTEL_EXPORTER_OTLP_* variables name,
// with bp's secret values redacted. flush exports what is queued; call it
// before the command exits. A span that cannot be exported is reported on
// stderr: the run itself is recorded all the same.
func (c *CLI) tracing(ctx context.Context, db *sqlite.DB, bp *backend.Blueprint) (engine.Tracer, func(), error) {
	var secrets map[string]string
	if bp != nil {
		secrets = engine.SecretValues(bp, c.Getenv)
	}
	tp, err := trace.Setup(ctx, trace.Config{Store: db, Redactor: trace.NewRedactor(secrets), Getenv: c.Getenv})
	if err != nil {
		return nil, nil, err
	}
	flush := func() {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), flushTimeout)
		defer cancel()
		if err := tp.Shutdown(fctx); err != nil {
			fmt.Fprintln(c.Stderr, "factory: spans not exported:", err)
		}
	}
	return tp.Tracer(engine.TracerScope), flush, nil
}

// engineConfig wires an engine for a run of bp made by a command other than
// run (replay, rerun): the workspace database, the real agent, the
// configured providers, spans and progress on stderr. Call flush before
// the command exits.
func (c *CLI) engineConfig(ctx context.Context, db *sqlite.DB, bp *backend.Blueprint) (engine.Config, func(), error) {
	tracer, flush, err := c.tracing(ctx, db, bp)
	if err != nil {
		return engine.Config{}, nil, err
	}
	p := &progress{w: c.Stderr, now: c.Now}
	return engine.Config{
		Store:     db,
		Attempter: agent.New(agent.Config{Logger: c.log(), Now: c.Now, Redact: engine.Redactor(bp, c.Getenv)}),
		Providers: c.providers(),
		Logger:    c.log(),
		Now:       c.Now,
		OnEvent:   p.event,
		Tracer:    tracer,
		Getenv:    c.Getenv,
	}, flush, nil
}

// libraryRoles returns the workspace's roles, or none when the workspace
// has no role library.
func (c *CLI) libraryRoles() map[string]*backend.Role {
	lib, err := c.library()
	if err != nil {
		return nil
	}
	return lib.Roles
}
