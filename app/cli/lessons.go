package cli

import (
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"factorydesk/backend"
)

func (c *CLI) lessonsCommand() *cobra.Command {
	var f backend.LessonFilter
	cmd := &cobra.Command{
		Use:   "lessons",
		Short: "List the lessons the factory keeps for its roles",
		Long: `List the lessons kept for roles, newest first: the comments of rejected
reviews, and gate failures that repeated across runs of a role. Later attempts
of the role are given its lessons in their context package (the most relevant
ten at most). Remove one that no longer holds with factory lessons rm ID.`,
		Example: "  factory lessons\n  factory lessons --role backend-developer --json\n  factory lessons rm 7",
		Args:    args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			db, err := c.open(cmd.Context())
			if err != nil {
				return err
			}
			lessons, err := db.Lessons(cmd.Context(), f)
			if err != nil {
				return err
			}
			if c.jsonOut {
				return writeJSON(c.Stdout, lessons)
			}
			if len(lessons) == 0 {
				fmt.Fprintln(c.Stderr, "no lessons yet (rejected reviews and repeated gate failures become lessons)")
				return nil
			}
			tw := tabwriter.NewWriter(c.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tROLE\tKIND\tFROM\tHITS\tCREATED\tLESSON")
			for _, l := range lessons {
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s/%s\t%d\t%s\t%s\n", l.ID, l.Role, l.Kind, short(l.RunID), l.StepID,
					l.Hits, l.CreatedAt.Local().Format("2006-01-02 15:04"), oneLine(l.Text, 80))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&f.Role, "role", "", "only the lessons of this role")
	cmd.Flags().IntVar(&f.Limit, "limit", 0, "at most this many lessons (0: all)")
	cmd.Flags().BoolVar(&c.jsonOut, "json", false, "print the lessons as JSON on stdout")
	cmd.AddCommand(&cobra.Command{
		Use:     "rm ID",
		Short:   "Remove a lesson",
		Example: "  factory lessons rm 7",
		Args:    args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			id, err := strconv.ParseInt(a[0], 10, 64)
			if err != nil || id < 1 {
				return usageError{fmt.Errorf("lesson id %q: want a number from factory lessons", a[0])}
			}
			db, err := c.open(cmd.Context())
			if err != nil {
				return err
			}
			if err := db.DeleteLesson(cmd.Context(), id); err != nil {
				return err
			}
			fmt.Fprintf(c.Stderr, "lesson %d removed\n", id)
			return nil
		},
	})
	return cmd
}

// oneLine returns s on one line, cut to n runes.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
