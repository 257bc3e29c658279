// Command factory is Factory Desk: the CLI, the browser-mode server and, in
// the desktop build, the desktop window.
package main

import (
	"os"

	"factorydesk/app/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
