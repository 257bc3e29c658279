package sqlite

import (
	"context"
	"fmt"
	"testing"

	"factorydesk/backend"
)

// BenchmarkRecordCall measures storing a prompt and an answer blob and
// recording the call that refers to them, each a transaction.
func BenchmarkRecordCall(b *testing.B) {
	for _, size := range []int{1 << 10, 64 << 10} {
		b.Run(fmt.Sprintf("%dKiB", size>>10), func(b *testing.B) {
			ctx := context.Background()
			d := newDB(b)
			if err := d.CreateRun(ctx, &backend.Run{ID: "bench"}); err != nil {
				b.Fatal(err)
			}
			prompt := make([]byte, size)
			b.SetBytes(int64(size + size/2))
			for i := 0; b.Loop(); i++ {
				copy(prompt, fmt.Sprintf("call %d", i)) // a new prompt each time
				ph, err := d.PutBlob(ctx, prompt)
				if err != nil {
					b.Fatal(err)
				}
				ah, err := d.PutBlob(ctx, prompt[:size/2])
				if err != nil {
					b.Fatal(err)
				}
				c := backend.ModelCall{RunID: "bench", StepID: "code", Attempt: 1, Seq: i + 1, PromptHash: ph, AnswerHash: ah}
				if err := d.RecordCall(ctx, &c); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
		})
	}
}
