package gguf_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"factorydesk/backend"
	"factorydesk/backend/model/modeltest/gguf"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// header is what the test reader gets back from a GGUF file.
type header struct {
	version   uint32
	metadata  []gguf.KV
	tensors   []tensorInfo
	dataStart int64
}

type tensorInfo struct {
	name   string
	shape  []uint64
	typ    uint32
	offset uint64
}

// reader decodes a GGUF file independently of the writer.
type reader struct {
	r   io.Reader
	n   int64
	err error
}

func (r *reader) read(p []byte) {
	if r.err != nil {
		return
	}
	n, err := io.ReadFull(r.r, p)
	r.n += int64(n)
	r.err = err
}

func (r *reader) u32() uint32 { var b [4]byte; r.read(b[:]); return binary.LittleEndian.Uint32(b[:]) }
func (r *reader) u64() uint64 { var b [8]byte; r.read(b[:]); return binary.LittleEndian.Uint64(b[:]) }

func (r *reader) str() string {
	n := r.u64()
	if n > 1<<20 {
		r.err = fmt.Errorf("string of %d bytes", n)
		return ""
	}
	b := make([]byte, n)
	r.read(b)
	return string(b)
}

func (r *reader) value(typ uint32) any {
	switch typ {
	case gguf.TypeUint8:
		var b [1]byte
		r.read(b[:])
		return b[0]
	case gguf.TypeUint32:
		return r.u32()
	case gguf.TypeInt32:
		return int32(r.u32())
	case gguf.TypeFloat32:
		return math.Float32frombits(r.u32())
	case gguf.TypeBool:
		var b [1]byte
		r.read(b[:])
		return b[0] != 0
	case gguf.TypeString:
		return r.str()
	case gguf.TypeUint64:
		return r.u64()
	case gguf.TypeFloat64:
		return math.Float64frombits(r.u64())
	case gguf.TypeArray:
		elem, n := r.u32(), r.u64()
		var out []any
		for i := uint64(0); i < n && r.err == nil; i++ {
			out = append(out, r.value(elem))
		}
		return out
	}
	r.err = fmt.Errorf("value type %d not handled by the test reader", typ)
	return nil
}

// readHeader decodes the header, metadata and tensor infos of a GGUF file.
func readHeader(t *testing.T, data []byte) header {
	t.Helper()
	r := &reader{r: bytes.NewReader(data)}
	magic := make([]byte, 4)
	r.read(magic)
	if string(magic) != gguf.Magic {
		t.Fatalf("magic = %q, want %q", magic, gguf.Magic)
	}
	h := header{version: r.u32()}
	nt, nkv := r.u64(), r.u64()
	for i := uint64(0); i < nkv && r.err == nil; i++ {
		key := r.str()
		h.metadata = append(h.metadata, gguf.KV{Key: key, Value: r.value(r.u32())})
	}
	for i := uint64(0); i < nt && r.err == nil; i++ {
		ti := tensorInfo{name: r.str()}
		dims := r.u32()
		for d := uint32(0); d < dims; d++ {
			ti.shape = append(ti.shape, r.u64())
		}
		ti.typ, ti.offset = r.u32(), r.u64()
		h.tensors = append(h.tensors, ti)
	}
	if r.err != nil {
		t.Fatalf("read header at byte %d: %v", r.n, r.err)
	}
	align := int64(gguf.DefaultAlignment)
	for _, kv := range h.metadata {
		if a, ok := kv.Value.(uint32); ok && kv.Key == "general.alignment" {
			align = int64(a)
		}
	}
	h.dataStart = (r.n + align - 1) / align * align
	return h
}

// dump renders a header as text for the golden file.
func dump(h header) string {
	var b strings.Builder
	fmt.Fprintf(&b, "version %d\n", h.version)
	for _, kv := range h.metadata {
		if arr, ok := kv.Value.([]any); ok {
			fmt.Fprintf(&b, "%s = [%d] %v ... %v\n", kv.Key, len(arr), arr[:4], arr[len(arr)-2:])
			continue
		}
		fmt.Fprintf(&b, "%s = %v\n", kv.Key, kv.Value)
	}
	for _, ti := range h.tensors {
		fmt.Fprintf(&b, "tensor %s %v type %d offset %d\n", ti.name, ti.shape, ti.typ, ti.offset)
	}
	fmt.Fprintf(&b, "data starts at %d\n", h.dataStart)
	return b.String()
}

func writeModel(t *testing.T, cfg gguf.LlamaConfig) (*gguf.File, []byte) {
	t.Helper()
	f, err := gguf.NewLlama(cfg)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "model.gguf")
	if err := gguf.WriteFile(path, f); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return f, data
}

func TestNewLlamaRoundTrip(t *testing.T) {
	twoBlocks := gguf.TinyLlama()
	twoBlocks.Blocks, twoBlocks.HeadsKV = 2, 2
	tests := []struct {
		name       string
		cfg        gguf.LlamaConfig
		wantParams int
		wantTensor int
	}{
		{"tiny", gguf.TinyLlama(), 86464, 12},
		{"two blocks grouped query attention", twoBlocks, 119360, 21},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, data := writeModel(t, tt.cfg)
			if f.Params() != tt.wantParams {
				t.Errorf("params = %d, want %d", f.Params(), tt.wantParams)
			}
			h := readHeader(t, data)
			if h.version != gguf.Version || len(h.tensors) != tt.wantTensor || len(h.metadata) != len(f.Metadata) {
				t.Fatalf("version %d, %d tensors, %d keys; want %d, %d, %d",
					h.version, len(h.tensors), len(h.metadata), gguf.Version, tt.wantTensor, len(f.Metadata))
			}
			checkTensors(t, f, h, data)
		})
	}
}

func TestAlignmentPadding(t *testing.T) {
	tests := []struct {
		name        string
		align       int
		wantOffsets []uint64
	}{
		{"default", 0, []uint64{0, 32, 64}},
		{"64 bytes", 64, []uint64{0, 64, 128}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &gguf.File{Alignment: tt.align, Tensors: []gguf.Tensor{
				{Name: "a", Shape: []uint64{3}, Data: []float32{1, 2, 3}},
				{Name: "b", Shape: []uint64{5}, Data: []float32{4, 5, 6, 7, 8}},
				{Name: "c", Shape: []uint64{1, 1, 1}, Data: []float32{9}},
			}}
			align := uint64(gguf.DefaultAlignment)
			if tt.align > 0 {
				align = uint64(tt.align)
				f.Metadata = []gguf.KV{{Key: "general.alignment", Value: uint32(tt.align)}}
			}
			var buf bytes.Buffer
			if _, err := f.WriteTo(&buf); err != nil {
				t.Fatal(err)
			}
			h := readHeader(t, buf.Bytes())
			for i, ti := range h.tensors {
				if ti.offset != tt.wantOffsets[i] {
					t.Errorf("tensor %s offset %d, want %d", ti.name, ti.offset, tt.wantOffsets[i])
				}
			}
			if uint64(h.dataStart)%align != 0 {
				t.Errorf("data starts at %d, not a multiple of %d", h.dataStart, align)
			}
			checkTensors(t, f, h, buf.Bytes())
		})
	}
}

// checkTensors checks each tensor's info, alignment, placement and bytes.
func checkTensors(t *testing.T, f *gguf.File, h header, data []byte) {
	t.Helper()
	end := uint64(0)
	for i, ti := range h.tensors {
		want := f.Tensors[i]
		if ti.name != want.Name || fmt.Sprint(ti.shape) != fmt.Sprint(want.Shape) || ti.typ != gguf.TensorTypeF32 {
			t.Errorf("tensor %d = %s %v type %d, want %s %v F32", i, ti.name, ti.shape, ti.typ, want.Name, want.Shape)
		}
		if ti.offset%gguf.DefaultAlignment != 0 || ti.offset < end {
			t.Errorf("tensor %s at offset %d: unaligned or overlapping the previous one (ends at %d)", ti.name, ti.offset, end)
		}
		start := uint64(h.dataStart) + ti.offset
		end = ti.offset + 4*want.Elements()
		if got := math.Float32frombits(binary.LittleEndian.Uint32(data[start:])); got != want.Data[0] {
			t.Errorf("tensor %s: first element %v, want %v", ti.name, got, want.Data[0])
		}
		last := uint64(h.dataStart) + end - 4
		if got := math.Float32frombits(binary.LittleEndian.Uint32(data[last:])); got != want.Data[len(want.Data)-1] {
			t.Errorf("tensor %s: last element %v, want %v", ti.name, got, want.Data[len(want.Data)-1])
		}
	}
	if got, want := int64(len(data)), h.dataStart+int64(end); got != want {
		t.Errorf("file size = %d, want data start %d + data %d = %d", got, h.dataStart, end, want)
	}
}

func TestTinyLlamaGolden(t *testing.T) {
	_, data := writeModel(t, gguf.TinyLlama())
	got := dump(readHeader(t, data))
	golden := filepath.Join("testdata", "tiny.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("header differs from %s (run with -update to accept):\n%s", golden, got)
	}
	if len(data) > 400<<10 {
		t.Errorf("tiny model is %d bytes, want under 400 KiB", len(data))
	}
}

func TestVocab(t *testing.T) {
	tokens, scores, types := gguf.Vocab()
	if len(tokens) != 354 || len(scores) != len(tokens) || len(types) != len(tokens) {
		t.Fatalf("vocab sizes %d/%d/%d, want 354 each", len(tokens), len(scores), len(types))
	}
	checks := []struct {
		id      int
		token   string
		typ     int32
		comment string
	}{
		{gguf.UnknownID, "<unk>", gguf.TokenUnknown, "unknown"},
		{gguf.BOSID, "<s>", gguf.TokenControl, "begin"},
		{gguf.EOSID, "</s>", gguf.TokenControl, "end"},
		{3, "<0x00>", gguf.TokenByte, "first byte"},
		{258, "<0xFF>", gguf.TokenByte, "last byte"},
		{259, "▁", gguf.TokenNormal, "word boundary"},
		{353, "~", gguf.TokenNormal, "last printable"},
	}
	for _, c := range checks {
		t.Run(c.comment, func(t *testing.T) {
			if tokens[c.id] != c.token || types[c.id] != c.typ {
				t.Errorf("token %d = %q type %d, want %q type %d", c.id, tokens[c.id], types[c.id], c.token, c.typ)
			}
		})
	}
}

func TestInvalid(t *testing.T) {
	badHeads := gguf.TinyLlama()
	badHeads.Heads = 5
	if _, err := gguf.NewLlama(badHeads); backend.ErrorCode(err) != backend.EINVALID {
		t.Errorf("NewLlama(heads 5) = %v, want an invalid error", err)
	}
	tests := []struct {
		name string
		file gguf.File
		want string
	}{
		{"unsupported value", gguf.File{Metadata: []gguf.KV{{Key: "x", Value: []bool{true}}}}, "unsupported value type"},
		{"duplicate key", gguf.File{Metadata: []gguf.KV{{Key: "x", Value: "a"}, {Key: "x", Value: "b"}}}, "given twice"},
		{"alignment mismatch", gguf.File{Metadata: []gguf.KV{{Key: "general.alignment", Value: uint32(64)}}}, "differs"},
		{"shape and data", gguf.File{Tensors: []gguf.Tensor{{Name: "w", Shape: []uint64{2, 3}, Data: make([]float32, 5)}}}, "holds 6 elements"},
		{"no dimensions", gguf.File{Tensors: []gguf.Tensor{{Name: "w"}}}, "0 dimensions"},
		{"alignment not a power of two", gguf.File{Alignment: 24}, "power of two"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.file.WriteTo(io.Discard)
			var be *backend.Error
			if !errors.As(err, &be) || be.Code != backend.EINVALID || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("WriteTo = %v, want an invalid error containing %q", err, tt.want)
			}
		})
	}
}

func TestWriteToCountsBytes(t *testing.T) {
	f, err := gguf.NewLlama(gguf.TinyLlama())
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	n, err := f.WriteTo(&buf)
	if err != nil || n != int64(buf.Len()) {
		t.Fatalf("WriteTo = %d, %v; buffer holds %d", n, err, buf.Len())
	}
	_, size := f.TensorOffsets()
	if h := readHeader(t, buf.Bytes()); h.dataStart+int64(size) != n {
		t.Errorf("data start %d + data %d != written %d", h.dataStart, size, n)
	}
}

func TestNeverEnd(t *testing.T) {
	tests := []struct {
		name     string
		neverEnd bool
	}{
		{"never end", true},
		{"plain random", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := gguf.TinyLlama()
			cfg.NeverEnd = tt.neverEnd
			f, err := gguf.NewLlama(cfg)
			if err != nil {
				t.Fatal(err)
			}
			n := uint64(cfg.Embedding)
			tensors := map[string]gguf.Tensor{}
			for _, ts := range f.Tensors {
				tensors[ts.Name] = ts
			}
			checks := []struct {
				tensor string
				index  uint64 // an element that NeverEnd fixes
				want   float32
			}{
				{"token_embd.weight", 5 * n, 8},                     // token 5, dimension 0
				{"output.weight", gguf.EOSID * n, -2},               // end of sequence, dimension 0
				{"output.weight", 7 * n, 0},                         // token 7, dimension 0
				{"blk.0.attn_output.weight", 3, 0},                  // input 3 into dimension 0
				{"blk.0.ffn_down.weight", 100, 0},                   // input 100 into dimension 0
				{"blk.0.attn_q.weight", 9 * n, 0},                   // dimension 0 into output 9
				{"blk.0.ffn_up.weight", 11 * n, 0},                  // dimension 0 into output 11
				{"blk.0.attn_v.weight", uint64(cfg.Embedding), 0},   // dimension 0 into output 1
				{"blk.0.ffn_gate.weight", uint64(cfg.Embedding), 0}, // dimension 0 into output 1
			}
			for _, c := range checks {
				got := tensors[c.tensor].Data[c.index]
				if fixed := got == c.want; fixed != tt.neverEnd {
					t.Errorf("%s[%d] = %v; fixed to %v: %v, want %v", c.tensor, c.index, got, c.want, fixed, tt.neverEnd)
				}
			}
		})
	}
}

func TestSuppressedTokens(t *testing.T) {
	tokens, _, _ := gguf.Vocab()
	id := func(tok string) uint64 {
		for i, s := range tokens {
			if s == tok {
				return uint64(i)
			}
		}
		t.Fatalf("no token %q", tok)
		return 0
	}
	endless := gguf.TinyLlama()
	endless.NeverQuote = true
	tests := []struct {
		name string
		cfg  gguf.LlamaConfig
		want map[string]float32 // output weight of dimension 0, by token
	}{
		{"never end", gguf.TinyLlama(), map[string]float32{"</s>": -2, `"`: 0, "<0x22>": 0, "a": 0}},
		{"never quote", endless, map[string]float32{"</s>": -2, `"`: -2, "<0x22>": -2, "a": 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := gguf.NewLlama(tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			out := f.Tensors[len(f.Tensors)-1]
			if out.Name != "output.weight" {
				t.Fatalf("last tensor is %s", out.Name)
			}
			n := out.Shape[0]
			for tok, want := range tt.want {
				if got := out.Data[id(tok)*n]; got != want {
					t.Errorf("token %q: dimension 0 weighs %v, want %v", tok, got, want)
				}
			}
		})
	}
}
