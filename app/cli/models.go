package cli

import (
	"fmt"
	"os"
	"os/signal"
	"sort"
	"syscall"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"factorydesk/backend"
	"factorydesk/backend/model"
)

// modelsReport is the --json output of factory models.
type modelsReport struct {
	Models []backend.ModelInfo `json:"models"`
	Errors map[string]string   `json:"errors,omitempty"` // provider -> why it could not list
}

func (c *CLI) modelsCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "models",
		Short: "List the models each configured provider offers; pull one",
		Long: `List the models of each provider:
  ollama   the Ollama server at OLLAMA_HOST (default http://127.0.0.1:11434)
  openai   the OpenAI-compatible server at OPENAI_BASE_URL, key OPENAI_API_KEY

A provider that cannot be reached is reported on stderr and the others are
still listed. Exit status 1 when no provider answered.`,
		Example: "  factory models\n  OLLAMA_HOST=http://gpu-box:11434 factory models --json",
		Args:    args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			providers := c.providers()
			if c.Getenv("OPENAI_BASE_URL") == "" && c.Getenv("OPENAI_API_KEY") == "" {
				// Not configured: listing api.openai.com without a key only fails.
				delete(providers, backend.ProviderOpenAI)
			}
			models, errs := model.ListAll(cmd.Context(), providers)
			rep := modelsReport{Models: models, Errors: map[string]string{}}
			if rep.Models == nil {
				rep.Models = []backend.ModelInfo{}
			}
			names := make([]string, 0, len(errs))
			for name := range errs {
				names = append(names, name)
			}
			sort.Strings(names)
			for _, name := range names {
				rep.Errors[name] = errs[name].Error()
			}
			if c.jsonOut {
				if err := writeJSON(c.Stdout, rep); err != nil {
					return err
				}
			} else {
				tw := tabwriter.NewWriter(c.Stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "MODEL\tSIZE\tFAMILY\tPARAMETERS\tMODIFIED")
				for _, m := range rep.Models {
					mod := ""
					if !m.Modified.IsZero() {
						mod = m.Modified.Local().Format("2006-01-02 15:04")
					}
					fmt.Fprintf(tw, "%s:%s\t%s\t%s\t%s\t%s\n", m.Provider, m.Name, size(m.Size), m.Family, m.Params, mod)
				}
				if err := tw.Flush(); err != nil {
					return err
				}
				for _, name := range names {
					fmt.Fprintf(c.Stderr, "%s: %s\n", name, rep.Errors[name])
				}
			}
			if len(rep.Models) == 0 && len(names) > 0 {
				return exit(ExitFailed, nil)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&c.jsonOut, "json", false, "print the models as JSON on stdout")
	cmd.AddCommand(c.pullCommand())
	return cmd
}

func (c *CLI) pullCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "pull NAME",
		Short:   "Download a model into the Ollama server (progress on stderr)",
		Example: "  factory models pull qwen2.5-coder:7b",
		Args:    args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			name := a[0]
			if ref, err := backend.ParseModelRef(name); err == nil {
				if ref.Provider != backend.ProviderOllama {
					return usageError{fmt.Errorf("only ollama models can be pulled, not %s", ref.Provider)}
				}
				name = ref.Model
			}
			puller, ok := c.providers()[backend.ProviderOllama].(backend.Puller)
			if !ok {
				return backend.Errorf(backend.EINTERNAL, "the ollama provider cannot pull")
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			last := ""
			err := puller.Pull(ctx, name, func(p backend.PullProgress) {
				line := p.Status
				if p.Total > 0 {
					line = fmt.Sprintf("%s %s / %s (%d%%)", p.Status, size(p.Completed), size(p.Total), p.Completed*100/p.Total)
				}
				if line != last {
					fmt.Fprintln(c.Stderr, line)
					last = line
				}
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(c.Stdout, "ollama:%s\n", name)
			return nil
		},
	}
}

func size(n int64) string {
	const unit = 1024
	if n <= 0 {
		return "-"
	}
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
