// Command tinymodel writes the tiny llama-architecture test model, a GGUF
// file of about 340 KiB that a real Ollama server loads in a fraction of a
// second:
//
//	go run ./backend/model/modeltest/gguf/cmd/tinymodel -o tiny.gguf
//	printf 'FROM ./tiny.gguf\n' > Modelfile && ollama create tiny -f Modelfile
package main

import (
	"flag"
	"fmt"
	"os"

	"factorydesk/backend/model/modeltest/gguf"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "tinymodel:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	cfg := gguf.TinyLlama()
	fs := flag.NewFlagSet("tinymodel", flag.ContinueOnError)
	out := fs.String("o", "", "path of the GGUF file to write (required)")
	fs.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "seed of the random weights")
	fs.IntVar(&cfg.Blocks, "blocks", cfg.Blocks, "transformer blocks")
	fs.IntVar(&cfg.Context, "context", cfg.Context, "context length")
	fs.BoolVar(&cfg.NeverQuote, "never-quote", false, "never close a string: under a JSON format answers never end")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("want -o FILE and no arguments")
	}
	f, err := gguf.NewLlama(cfg)
	if err != nil {
		return err
	}
	if err := gguf.WriteFile(*out, f); err != nil {
		return err
	}
	st, err := os.Stat(*out)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "tinymodel: wrote %s (%d parameters, %d bytes)\n", *out, f.Params(), st.Size())
	return nil
}
