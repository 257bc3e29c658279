package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"factorydesk/backend/engine"
)

func (c *CLI) reviewCommand() *cobra.Command {
	var approve bool
	var reject string
	cmd := &cobra.Command{
		Use:   "review RUN STEP (--approve | --reject COMMENT)",
		Short: "Approve or reject a step that waits for a review",
		Long: `Decide the review a step waits for (a step with review: required, after its
gates passed). --approve lets the run go on; --reject "comment" sends the step
back: the comment is the feedback of its next attempt, and a lesson of the
step's role that later runs are given.

The decision is recorded in the workspace database. A factory run waiting in
a terminal picks it up at once; otherwise continue the run with
factory resume RUN.`,
		Example: `  factory review 4bf92f35 tests --approve
  factory review 4bf92f35 tests --reject "cover the error paths of POST /orders"
  factory resume 4bf92f35`,
		Args: args(cobra.ExactArgs(2)),
		RunE: func(cmd *cobra.Command, a []string) error {
			rejecting := cmd.Flags().Changed("reject")
			switch {
			case approve == rejecting:
				return usageError{fmt.Errorf("give exactly one of --approve or --reject \"comment\"")}
			case rejecting && strings.TrimSpace(reject) == "":
				return usageError{fmt.Errorf("--reject needs a comment: it becomes the feedback of the next attempt")}
			}
			db, err := c.open(cmd.Context())
			if err != nil {
				return err
			}
			eng := engine.New(engine.Config{Store: db, Logger: c.log(), Now: c.Now, Getenv: c.Getenv})
			rv, err := eng.Review(cmd.Context(), a[0], a[1], approve, reject)
			if err != nil {
				return err
			}
			if c.jsonOut {
				return writeJSON(c.Stdout, rv)
			}
			fmt.Fprintf(c.Stdout, "step %s of run %s %s\n", rv.StepID, rv.RunID, rv.Status)
			if run, err := db.Run(cmd.Context(), rv.RunID); err == nil && run.Run.Status != "running" {
				fmt.Fprintf(c.Stderr, "continue the run with: factory resume %s\n", rv.RunID)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&approve, "approve", false, "approve the step's output")
	cmd.Flags().StringVar(&reject, "reject", "", "reject the step's output, saying why (the next attempt's feedback)")
	cmd.Flags().BoolVar(&c.jsonOut, "json", false, "print the decided review as JSON on stdout")
	return cmd
}
