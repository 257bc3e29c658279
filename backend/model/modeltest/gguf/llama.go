package gguf

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"factorydesk/backend"
)

// Token types of a SentencePiece vocabulary, as llama.cpp numbers them.
const (
	TokenNormal  int32 = 1
	TokenUnknown int32 = 2
	TokenControl int32 = 3
	TokenByte    int32 = 6
)

// Ids of the special tokens in the vocabulary Vocab makes.
const (
	UnknownID = 0
	BOSID     = 1
	EOSID     = 2
)

// LlamaConfig sizes a llama-architecture model.
type LlamaConfig struct {
	Name        string  // general.name
	Embedding   int     // embedding length
	Blocks      int     // transformer blocks
	Heads       int     // attention heads
	HeadsKV     int     // key/value heads; 0 means Heads
	FeedForward int     // feed-forward length
	Context     int     // context length
	RMSEpsilon  float32 // layer norm epsilon
	Seed        uint64  // seed of the random weights
	// NeverEnd keeps the end-of-sequence token's logit far below every
	// other, so the model never ends an answer by itself: without a
	// format an answer runs to num_predict; with a format the grammar
	// still ends it once the JSON is complete.
	NeverEnd bool
	// NeverQuote keeps the double quote (the token `"` and the byte token
	// <0x22>) as far down as NeverEnd keeps the end token. Under a JSON
	// format the first string the grammar opens then never closes, so an
	// answer runs until num_predict or until the client goes away: a
	// model that is reliably still generating.
	NeverQuote bool
}

// TinyLlama is the configuration of the tiny test model: about 86K
// parameters, some 340 KiB as F32.
func TinyLlama() LlamaConfig {
	return LlamaConfig{
		Name:        "tiny",
		Embedding:   64,
		Blocks:      1,
		Heads:       4,
		FeedForward: 128,
		Context:     2048,
		RMSEpsilon:  1e-5,
		Seed:        1,
		NeverEnd:    true,
	}
}

func (c LlamaConfig) headsKV() int {
	if c.HeadsKV > 0 {
		return c.HeadsKV
	}
	return c.Heads
}

func (c LlamaConfig) validate() error {
	switch {
	case c.Embedding <= 0 || c.Blocks <= 0 || c.Heads <= 0 || c.FeedForward <= 0 || c.Context <= 0:
		return backend.Errorf(backend.EINVALID, "gguf: llama config %+v: sizes must be positive", c)
	case c.Embedding%c.Heads != 0:
		return backend.Errorf(backend.EINVALID, "gguf: embedding %d is not a multiple of heads %d", c.Embedding, c.Heads)
	case c.Heads%c.headsKV() != 0:
		return backend.Errorf(backend.EINVALID, "gguf: heads %d is not a multiple of key/value heads %d", c.Heads, c.headsKV())
	}
	return nil
}

// Vocab returns a SentencePiece vocabulary with byte fallback: <unk>, <s>,
// </s>, the 256 byte tokens <0x00>..<0xFF>, "▁" (the word boundary) and the
// printable ASCII characters, with their scores and token types.
func Vocab() (tokens []string, scores []float32, types []int32) {
	add := func(tok string, score float32, typ int32) {
		tokens = append(tokens, tok)
		scores = append(scores, score)
		types = append(types, typ)
	}
	add("<unk>", 0, TokenUnknown)
	add("<s>", 0, TokenControl)
	add("</s>", 0, TokenControl)
	for b := 0; b < 256; b++ {
		add(fmt.Sprintf("<0x%02X>", b), 0, TokenByte)
	}
	add("▁", -1, TokenNormal)
	for c := byte('!'); c <= '~'; c++ {
		add(string(c), -float32(len(tokens)), TokenNormal)
	}
	return tokens, scores, types
}

// NewLlama returns a llama-architecture model of the given size with random
// F32 weights drawn from cfg.Seed, and the vocabulary of Vocab.
func NewLlama(cfg LlamaConfig) (*File, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	tokens, scores, types := Vocab()
	f := &File{Alignment: DefaultAlignment, Metadata: llamaMetadata(cfg, tokens, scores, types)}
	r := rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15))
	n, v, ff := uint64(cfg.Embedding), uint64(len(tokens)), uint64(cfg.FeedForward)
	kv := n / uint64(cfg.Heads) * uint64(cfg.headsKV())
	f.Tensors = append(f.Tensors, randomTensor(r, "token_embd.weight", n, v))
	for i := 0; i < cfg.Blocks; i++ {
		p := fmt.Sprintf("blk.%d.", i)
		f.Tensors = append(f.Tensors,
			onesTensor(p+"attn_norm.weight", n),
			randomTensor(r, p+"attn_q.weight", n, n),
			randomTensor(r, p+"attn_k.weight", n, kv),
			randomTensor(r, p+"attn_v.weight", n, kv),
			randomTensor(r, p+"attn_output.weight", n, n),
			onesTensor(p+"ffn_norm.weight", n),
			randomTensor(r, p+"ffn_gate.weight", n, ff),
			randomTensor(r, p+"ffn_up.weight", n, ff),
			randomTensor(r, p+"ffn_down.weight", ff, n),
		)
	}
	f.Tensors = append(f.Tensors,
		onesTensor("output_norm.weight", n),
		randomTensor(r, "output.weight", n, v),
	)
	var suppressed []int
	if cfg.NeverEnd {
		suppressed = append(suppressed, EOSID)
	}
	if cfg.NeverQuote {
		suppressed = append(suppressed, tokenID(tokens, `"`), tokenID(tokens, "<0x22>"))
	}
	if len(suppressed) > 0 {
		suppress(f, n, suppressed)
	}
	return f, nil
}

func llamaMetadata(cfg LlamaConfig, tokens []string, scores []float32, types []int32) []KV {
	u := func(n int) uint32 { return uint32(n) }
	return []KV{
		{"general.architecture", "llama"},
		{"general.name", cfg.Name},
		{"general.alignment", uint32(DefaultAlignment)},
		{"general.file_type", uint32(0)}, // all F32
		{"llama.vocab_size", u(len(tokens))},
		{"llama.context_length", u(cfg.Context)},
		{"llama.embedding_length", u(cfg.Embedding)},
		{"llama.block_count", u(cfg.Blocks)},
		{"llama.feed_forward_length", u(cfg.FeedForward)},
		{"llama.attention.head_count", u(cfg.Heads)},
		{"llama.attention.head_count_kv", u(cfg.headsKV())},
		{"llama.attention.layer_norm_rms_epsilon", cfg.RMSEpsilon},
		{"llama.rope.dimension_count", u(cfg.Embedding / cfg.Heads)},
		{"llama.rope.freq_base", float32(10000)},
		{"tokenizer.ggml.model", "llama"},
		{"tokenizer.ggml.tokens", tokens},
		{"tokenizer.ggml.scores", scores},
		{"tokenizer.ggml.token_type", types},
		{"tokenizer.ggml.unknown_token_id", uint32(UnknownID)},
		{"tokenizer.ggml.bos_token_id", uint32(BOSID)},
		{"tokenizer.ggml.eos_token_id", uint32(EOSID)},
		{"tokenizer.ggml.add_bos_token", true},
		{"tokenizer.ggml.add_eos_token", false},
	}
}

// tokenID returns the id of tok in tokens; tok must be there.
func tokenID(tokens []string, tok string) int {
	for i, t := range tokens {
		if t == tok {
			return i
		}
	}
	panic("gguf: token " + tok + " not in the vocabulary")
}

// eosBias is the constant of the residual stream's first dimension.
const eosBias = 8

// suppress makes the first dimension of the residual stream a constant:
// every token embedding starts with eosBias, no block reads it or writes to
// it. After the final norm it is a large positive number, which only the
// suppressed tokens weigh, negatively. The other embedding dimensions are
// scaled to unit variance so the constant does not drown them.
func suppress(f *File, n uint64, ids []int) {
	for i := range f.Tensors {
		t := &f.Tensors[i]
		in := t.Shape[0]
		switch {
		case t.Name == "token_embd.weight":
			scale := float32(math.Sqrt(3 * float64(n)))
			for j := range t.Data {
				t.Data[j] *= scale
			}
			for tok := uint64(0); tok < t.Shape[1]; tok++ {
				t.Data[tok*n] = eosBias
			}
		case strings.HasSuffix(t.Name, ".attn_output.weight"), strings.HasSuffix(t.Name, ".ffn_down.weight"):
			clear(t.Data[:in]) // the weights into output dimension 0
		case strings.HasSuffix(t.Name, ".attn_q.weight"), strings.HasSuffix(t.Name, ".attn_k.weight"),
			strings.HasSuffix(t.Name, ".attn_v.weight"), strings.HasSuffix(t.Name, ".ffn_gate.weight"),
			strings.HasSuffix(t.Name, ".ffn_up.weight"):
			for out := uint64(0); out < t.Shape[1]; out++ {
				t.Data[out*in] = 0 // the weights from input dimension 0
			}
		case t.Name == "output.weight":
			for tok := uint64(0); tok < t.Shape[1]; tok++ {
				t.Data[tok*n] = 0
			}
			for _, id := range ids {
				t.Data[uint64(id)*n] = -2
			}
		}
	}
}

// randomTensor is an in×out matrix with weights uniform in ±1/sqrt(in).
func randomTensor(r *rand.Rand, name string, in, out uint64) Tensor {
	scale := 1 / math.Sqrt(float64(in))
	data := make([]float32, in*out)
	for i := range data {
		u := float64(r.Uint64()>>11) / (1 << 53) // [0, 1), the same on every platform
		data[i] = float32((2*u - 1) * scale)
	}
	return Tensor{Name: name, Shape: []uint64{in, out}, Data: data}
}

// onesTensor is a norm weight vector of ones.
func onesTensor(name string, n uint64) Tensor {
	data := make([]float32, n)
	for i := range data {
		data[i] = 1
	}
	return Tensor{Name: name, Shape: []uint64{n}, Data: data}
}
