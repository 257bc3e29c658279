// Package gguf writes GGUF v3 model files: metadata key-value pairs followed by
// F32 tensors. It is enough to make a tiny llama-architecture model with random
// weights (see NewLlama), so tests can drive a real model server that loads
// in a fraction of a second.
package gguf

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"

	"factorydesk/backend"
)

// Magic is the first four bytes of every GGUF file.
const Magic = "GGUF"

// Version is the GGUF format version this package writes.
const Version = 3

// DefaultAlignment is the alignment of the tensor data section and of each
// tensor in it, in bytes, unless general.alignment says otherwise.
const DefaultAlignment = 32

// Value types of metadata values, as numbered by the format.
const (
	TypeUint8   uint32 = 0
	TypeInt8    uint32 = 1
	TypeUint16  uint32 = 2
	TypeInt16   uint32 = 3
	TypeUint32  uint32 = 4
	TypeInt32   uint32 = 5
	TypeFloat32 uint32 = 6
	TypeBool    uint32 = 7
	TypeString  uint32 = 8
	TypeArray   uint32 = 9
	TypeUint64  uint32 = 10
	TypeInt64   uint32 = 11
	TypeFloat64 uint32 = 12
)

// TensorTypeF32 is the tensor type number of 32-bit floats, the only tensor
// type this package writes.
const TensorTypeF32 uint32 = 0

// KV is one metadata pair. Value is one of uint8, int8, uint16, int16, uint32,
// int32, float32, bool, string, uint64, int64, float64, or a slice of string,
// float32, int32 or uint32.
type KV struct {
	Key   string
	Value any
}

// Tensor is one F32 tensor. Shape lists dimensions innermost first, as GGUF
// does: a matrix mapping n inputs to m outputs has Shape {n, m}.
type Tensor struct {
	Name  string
	Shape []uint64
	Data  []float32
}

// Elements returns the number of elements Shape describes.
func (t Tensor) Elements() uint64 {
	n := uint64(1)
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// File is a GGUF file's content.
type File struct {
	Metadata  []KV
	Tensors   []Tensor
	Alignment int // 0 means DefaultAlignment
}

// Params returns the number of tensor elements in f.
func (f *File) Params() int {
	n := 0
	for _, t := range f.Tensors {
		n += len(t.Data)
	}
	return n
}

func (f *File) alignment() uint64 {
	if f.Alignment > 0 {
		return uint64(f.Alignment)
	}
	return DefaultAlignment
}

// Validate reports the first reason f cannot be written.
func (f *File) Validate() error {
	if a := f.alignment(); a&(a-1) != 0 {
		return backend.Errorf(backend.EINVALID, "gguf: alignment %d is not a power of two", a)
	}
	seen := map[string]bool{}
	for _, kv := range f.Metadata {
		if _, err := valueType(kv.Value); err != nil {
			return backend.Errorf(backend.EINVALID, "gguf: metadata %q: %v", kv.Key, err)
		}
		if seen[kv.Key] {
			return backend.Errorf(backend.EINVALID, "gguf: metadata %q given twice", kv.Key)
		}
		if a, ok := kv.Value.(uint32); kv.Key == "general.alignment" && (!ok || uint64(a) != f.alignment()) {
			return backend.Errorf(backend.EINVALID, "gguf: general.alignment %v differs from the alignment written, %d", kv.Value, f.alignment())
		}
		seen[kv.Key] = true
	}
	seen = map[string]bool{}
	for _, t := range f.Tensors {
		if len(t.Shape) == 0 || len(t.Shape) > 4 {
			return backend.Errorf(backend.EINVALID, "gguf: tensor %q has %d dimensions, want 1 to 4", t.Name, len(t.Shape))
		}
		if t.Elements() != uint64(len(t.Data)) {
			return backend.Errorf(backend.EINVALID, "gguf: tensor %q: shape %v holds %d elements, data has %d",
				t.Name, t.Shape, t.Elements(), len(t.Data))
		}
		if seen[t.Name] {
			return backend.Errorf(backend.EINVALID, "gguf: tensor %q given twice", t.Name)
		}
		seen[t.Name] = true
	}
	return nil
}

// TensorOffsets returns each tensor's offset from the start of the data
// section, and the size of that section.
func (f *File) TensorOffsets() (offsets []uint64, size uint64) {
	a := f.alignment()
	for _, t := range f.Tensors {
		size = alignUp(size, a)
		offsets = append(offsets, size)
		size += 4 * uint64(len(t.Data))
	}
	return offsets, size
}

func alignUp(n, a uint64) uint64 { return (n + a - 1) / a * a }

// WriteTo writes f in GGUF v3 form to w.
func (f *File) WriteTo(w io.Writer) (int64, error) {
	if err := f.Validate(); err != nil {
		return 0, err
	}
	cw := &countWriter{w: bufio.NewWriterSize(w, 64<<10)}
	cw.raw([]byte(Magic))
	cw.u32(Version)
	cw.u64(uint64(len(f.Tensors)))
	cw.u64(uint64(len(f.Metadata)))
	for _, kv := range f.Metadata {
		cw.str(kv.Key)
		typ, _ := valueType(kv.Value)
		cw.u32(typ)
		cw.value(kv.Value)
	}
	offsets, _ := f.TensorOffsets()
	for i, t := range f.Tensors {
		cw.str(t.Name)
		cw.u32(uint32(len(t.Shape)))
		for _, d := range t.Shape {
			cw.u64(d)
		}
		cw.u32(TensorTypeF32)
		cw.u64(offsets[i])
	}
	a := f.alignment()
	cw.pad(a)
	base := cw.n
	for i, t := range f.Tensors {
		cw.raw(make([]byte, base+int64(offsets[i])-cw.n))
		for _, v := range t.Data {
			cw.u32(math.Float32bits(v))
		}
	}
	if cw.err == nil {
		cw.err = cw.w.Flush()
	}
	if cw.err != nil {
		return cw.n, backend.WrapError(backend.EINTERNAL, cw.err, "gguf: write")
	}
	return cw.n, nil
}

// WriteFile writes f to path through a temporary file in the same folder,
// so a reader never sees half a model.
func WriteFile(path string, f *File) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".gguf-*")
	if err != nil {
		return backend.WrapError(backend.EINTERNAL, err, "gguf: create %s", path)
	}
	defer os.Remove(tmp.Name())
	if _, err := f.WriteTo(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return backend.WrapError(backend.EINTERNAL, err, "gguf: write %s", path)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return backend.WrapError(backend.EINTERNAL, err, "gguf: write %s", path)
	}
	return nil
}

// valueType returns the GGUF type number of v.
func valueType(v any) (uint32, error) {
	switch v.(type) {
	case uint8:
		return TypeUint8, nil
	case int8:
		return TypeInt8, nil
	case uint16:
		return TypeUint16, nil
	case int16:
		return TypeInt16, nil
	case uint32:
		return TypeUint32, nil
	case int32:
		return TypeInt32, nil
	case float32:
		return TypeFloat32, nil
	case bool:
		return TypeBool, nil
	case string:
		return TypeString, nil
	case uint64:
		return TypeUint64, nil
	case int64:
		return TypeInt64, nil
	case float64:
		return TypeFloat64, nil
	case []string, []float32, []int32, []uint32:
		return TypeArray, nil
	}
	return 0, fmt.Errorf("unsupported value type %T", v)
}

// countWriter writes little-endian values, counting bytes and keeping the
// first error.
type countWriter struct {
	w   *bufio.Writer
	n   int64
	err error
	buf [8]byte
}

func (c *countWriter) raw(p []byte) {
	if c.err != nil {
		return
	}
	n, err := c.w.Write(p)
	c.n += int64(n)
	c.err = err
}

func (c *countWriter) u8(v uint8) { c.raw([]byte{v}) }

func (c *countWriter) u16(v uint16) {
	binary.LittleEndian.PutUint16(c.buf[:2], v)
	c.raw(c.buf[:2])
}

func (c *countWriter) u32(v uint32) {
	binary.LittleEndian.PutUint32(c.buf[:4], v)
	c.raw(c.buf[:4])
}

func (c *countWriter) u64(v uint64) {
	binary.LittleEndian.PutUint64(c.buf[:8], v)
	c.raw(c.buf[:8])
}

func (c *countWriter) str(s string) {
	c.u64(uint64(len(s)))
	c.raw([]byte(s))
}

func (c *countWriter) pad(a uint64) {
	c.raw(make([]byte, alignUp(uint64(c.n), a)-uint64(c.n)))
}

// value writes v's payload (without its type number).
func (c *countWriter) value(v any) {
	switch v := v.(type) {
	case uint8:
		c.u8(v)
	case int8:
		c.u8(uint8(v))
	case uint16:
		c.u16(v)
	case int16:
		c.u16(uint16(v))
	case uint32:
		c.u32(v)
	case int32:
		c.u32(uint32(v))
	case float32:
		c.u32(math.Float32bits(v))
	case bool:
		if v {
			c.u8(1)
		} else {
			c.u8(0)
		}
	case string:
		c.str(v)
	case uint64:
		c.u64(v)
	case int64:
		c.u64(uint64(v))
	case float64:
		c.u64(math.Float64bits(v))
	case []string:
		c.u32(TypeString)
		c.u64(uint64(len(v)))
		for _, s := range v {
			c.str(s)
		}
	case []float32:
		c.u32(TypeFloat32)
		c.u64(uint64(len(v)))
		for _, f := range v {
			c.u32(math.Float32bits(f))
		}
	case []int32:
		c.u32(TypeInt32)
		c.u64(uint64(len(v)))
		for _, n := range v {
			c.u32(uint32(n))
		}
	case []uint32:
		c.u32(TypeUint32)
		c.u64(uint64(len(v)))
		for _, n := range v {
			c.u32(n)
		}
	}
}
