package cli

import (
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"factorydesk/app"
	"factorydesk/backend"
	"factorydesk/frontend"
)

// DefaultAddr is where factory serve listens unless told otherwise.
const DefaultAddr = "127.0.0.1:7777"

func (c *CLI) serveCommand() *cobra.Command {
	var addr, token string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the app in a browser (browser mode), for headless machines and shared use",
		Long: `Serve the app over HTTP: the same methods as the desktop window as JSON
(POST /api/METHOD), events over Server-Sent Events (GET /api/events), and the
frontend itself. Open the printed URL in a browser.

By default it listens on 127.0.0.1 only. Binding to another address requires a
token, checked on every request: pass --token, or one is generated and printed
as part of the URL. Requests from other sites are refused.`,
		Example: "  factory serve\n  factory serve --addr 0.0.0.0:7777   # prints a URL with a token",
		Args:    args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !app.IsLoopback(addr) && token == "" {
				token = app.NewToken()
			}
			root, err := c.root()
			if err != nil {
				return err
			}
			db, err := c.open(cmd.Context())
			if err != nil {
				return err
			}
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return backend.WrapError(backend.EUNAVAILABLE, err, "cannot listen on %s", addr)
			}
			url := "http://" + ln.Addr().String() + "/"
			if token != "" {
				url += "?token=" + token
			}
			fmt.Fprintf(c.Stdout, "%s\n", url)
			fmt.Fprintf(c.Stderr, "serving workspace %s at %s (Ctrl-C to stop)\n", root, url)
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			static, err := fs.Sub(frontend.Dist, "dist")
			if err != nil {
				return err
			}
			return app.Serve(ctx, app.Config{Root: root, Store: db, Getenv: c.Getenv, Logger: c.log(), Now: c.Now}, ln,
				app.ServerConfig{Token: token, Static: static, Logger: c.log()})
		},
	}
	cmd.Flags().StringVar(&addr, "addr", DefaultAddr, "address to listen on (host:port; port 0 picks a free one)")
	cmd.Flags().StringVar(&token, "token", "", "token required on every request (default: none on loopback, generated elsewhere)")
	return cmd
}
