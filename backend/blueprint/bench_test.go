package blueprint

import (
	"testing"

	"factorydesk/blueprints"
)

func BenchmarkParse(b *testing.B) {
	src, err := blueprints.FS.ReadFile("orders-service.md")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		if _, diags := Parse("orders-service.md", src, nil); len(diags) > 0 {
			b.Fatal(diags)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "files/s")
}
