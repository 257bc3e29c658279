package cli

import (
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"factorydesk/app"
	"factorydesk/backend"
	"factorydesk/frontend"
)

// DefaultAddr is where factory serve listens unless told otherwise.
const DefaultAddr = "127.0.0.1:7777"

func (c *CLI) serveCommand() *cobra.Command {
	var addr, token, tokenFile string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the app in a browser (browser mode), for headless machines and shared use",
		Long: `Serve the app over HTTP: the same methods as the desktop window as JSON
(POST /api/METHOD), events over Server-Sent Events (GET /api/events), and the
frontend itself. Open the printed URL in a browser.

By default it listens on 127.0.0.1 only. Binding to another address requires a
token, checked on every request: pass it in FACTORY_TOKEN or a file named by
--token-file (neither shows in ps), or --token; else one is generated and
printed as part of the URL. Requests from other sites are refused; without a
token, so are requests naming any host but localhost, 127.0.0.1 and [::1]
(DNS rebinding).`,
		Example: "  factory serve\n  factory serve --addr 0.0.0.0:7777   # prints a URL with a token",
		Args:    args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			token, err := c.serveToken(token, tokenFile)
			if err != nil {
				return err
			}
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
			url := "http://" + app.URLHost(ln.Addr()) + "/"
			if token != "" {
				url += "?token=" + token
			}
			fmt.Fprintf(c.Stdout, "%s\n", url)
			fmt.Fprintf(c.Stderr, "serving workspace %s at %s (Ctrl-C to stop)\n", root, url)
			if !app.IsLoopback(addr) {
				fmt.Fprintf(c.Stderr, "from other machines, open it with this machine's name or address in place of 127.0.0.1\n")
			}
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
	cmd.Flags().StringVar(&token, "token", "", "token required on every request (default: $FACTORY_TOKEN; none on loopback, generated elsewhere); visible in ps, prefer --token-file")
	cmd.Flags().StringVar(&tokenFile, "token-file", "", "read the token from this file (its first line)")
	return cmd
}

// serveToken resolves the token of factory serve: --token, else the first
// line of --token-file, else $FACTORY_TOKEN ("" when none is given).
func (c *CLI) serveToken(flag, file string) (string, error) {
	if flag != "" && file != "" {
		return "", usageError{fmt.Errorf("give --token or --token-file, not both")}
	}
	if flag != "" {
		return flag, nil
	}
	if file == "" {
		return strings.TrimSpace(c.Getenv("FACTORY_TOKEN")), nil
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return "", backend.WrapError(backend.EINVALID, err, "reading the token file")
	}
	line, _, _ := strings.Cut(string(data), "\n")
	if token := strings.TrimSpace(line); token != "" {
		return token, nil
	}
	return "", backend.Errorf(backend.EINVALID, "the token file %s is empty", file)
}
