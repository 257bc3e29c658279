package app

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"

	"factorydesk/backend"
)

// dispatcher calls the exported methods of a surface by name with JSON
// arguments, the way the Wails bridge does, so browser mode serves exactly the
// methods the desktop window binds.
type dispatcher struct {
	recv    reflect.Value
	methods map[string]reflect.Method
}

var (
	errorType   = reflect.TypeOf((*error)(nil)).Elem()
	contextType = reflect.TypeOf((*context.Context)(nil)).Elem()
)

// newDispatcher indexes the methods of v that return (T, error) or error.
func newDispatcher(v any) *dispatcher {
	d := &dispatcher{recv: reflect.ValueOf(v), methods: map[string]reflect.Method{}}
	t := d.recv.Type()
	for i := 0; i < t.NumMethod(); i++ {
		m := t.Method(i)
		out := m.Type.NumOut()
		if out == 0 || out > 2 || !m.Type.Out(out-1).Implements(errorType) {
			continue
		}
		d.methods[m.Name] = m
	}
	return d
}

// Names returns the callable method names, sorted.
func (d *dispatcher) Names() []string {
	names := make([]string, 0, len(d.methods))
	for n := range d.methods {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Call invokes method with the JSON array args. A leading context.Context
// parameter receives ctx. The result is the method's first return value.
func (d *dispatcher) Call(ctx context.Context, method string, args json.RawMessage) (any, error) {
	m, ok := d.methods[method]
	if !ok {
		return nil, backend.Errorf(backend.ENOTFOUND, "no method %q", method)
	}
	var raw []json.RawMessage
	if len(args) > 0 && string(args) != "null" {
		if err := json.Unmarshal(args, &raw); err != nil {
			return nil, backend.WrapError(backend.EINVALID, err, "arguments of %s must be a JSON array", method)
		}
	}
	in := []reflect.Value{d.recv}
	first := 1
	if m.Type.NumIn() > 1 && m.Type.In(1) == contextType {
		in = append(in, reflect.ValueOf(ctx))
		first = 2
	}
	want := m.Type.NumIn() - first
	if len(raw) != want {
		return nil, backend.Errorf(backend.EINVALID, "%s takes %d argument(s), got %d", method, want, len(raw))
	}
	for i, r := range raw {
		p := reflect.New(m.Type.In(first + i))
		if err := json.Unmarshal(r, p.Interface()); err != nil {
			return nil, backend.WrapError(backend.EINVALID, err, "%s argument %d", method, i+1)
		}
		in = append(in, p.Elem())
	}
	out := m.Func.Call(in)
	if errv := out[len(out)-1]; !errv.IsNil() {
		return nil, errv.Interface().(error)
	}
	if len(out) == 2 {
		return out[0].Interface(), nil
	}
	return nil, nil
}

// String describes the dispatcher for debugging.
func (d *dispatcher) String() string { return fmt.Sprintf("dispatcher%v", d.Names()) }
