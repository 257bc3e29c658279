package blueprint

import (
	"math"
	"strings"

	"factorydesk/backend"

	"github.com/goccy/go-yaml/ast"
)

// optionKeys are the keys of `options:`, on a blueprint, a role or a step.
var optionKeys = []string{"temperature", "top_p", "seed", "num_ctx", "max_tokens", "stop"}

// Limits of the options, checked by the linter.
const (
	maxTemperature = 2.0
	maxNumCtx      = 1 << 21
	maxMaxTokens   = 1 << 21
	maxStops       = 16
)

// decodeOptions decodes and checks a model options mapping; where names it
// in messages ("options" or "steps.ID.options" style prefixes are not
// needed: the position says which).
func (l *linter) decodeOptions(mv *ast.MappingValueNode) backend.ModelOptions {
	var o backend.ModelOptions
	if isNull(mv.Value) {
		return o
	}
	entries, ok := mapping(mv.Value)
	if !ok {
		l.add(l.valuePos(mv), "options: want a mapping like {temperature: 0.2, max_tokens: 2048}, got %s", kind(mv.Value))
		return o
	}
	for _, e := range entries {
		key := keyName(e)
		name := "options." + key
		switch key {
		case "temperature":
			o.Temperature = l.number(name, e, 0, maxTemperature)
		case "top_p":
			o.TopP = l.number(name, e, 0, 1)
		case "seed":
			o.Seed = l.seed(name, e)
		case "num_ctx":
			o.NumCtx = l.count(name, e, maxNumCtx)
		case "max_tokens":
			o.MaxTokens = l.count(name, e, maxMaxTokens)
		case "stop":
			o.Stop = l.stops(name, e)
		default:
			l.unknownKey(e, "options", optionKeys)
		}
	}
	return o
}

// number decodes a number between lo and hi, inclusive.
func (l *linter) number(key string, mv *ast.MappingValueNode, lo, hi float64) *float64 {
	if isNull(mv.Value) {
		return nil
	}
	var f float64
	switch v := unwrap(mv.Value).(type) {
	case *ast.FloatNode:
		f = v.Value
	case *ast.IntegerNode:
		switch x := v.Value.(type) {
		case int64:
			f = float64(x)
		case uint64:
			f = float64(x)
		}
	default:
		l.add(l.valuePos(mv), "%s: want a number from %g to %g, got %s", key, lo, hi, kind(mv.Value))
		return nil
	}
	if math.IsNaN(f) || f < lo || f > hi {
		l.add(l.valuePos(mv), "%s: want a number from %g to %g, got %s", key, lo, hi, mv.Value.GetToken().Value)
		return nil
	}
	return &f
}

// count decodes an integer from 1 to hi.
func (l *linter) count(key string, mv *ast.MappingValueNode, hi int) *int {
	n, ok := l.integer(key, mv)
	if !ok {
		return nil
	}
	if n < 1 || n > hi {
		l.add(l.valuePos(mv), "%s: want an integer from 1 to %d, got %d", key, hi, n)
		return nil
	}
	return &n
}

// seed decodes a seed: any integer that fits 64 bits.
func (l *linter) seed(key string, mv *ast.MappingValueNode) *int64 {
	if isNull(mv.Value) {
		return nil
	}
	v, isInt := unwrap(mv.Value).(*ast.IntegerNode)
	if !isInt {
		l.add(l.valuePos(mv), "%s: want an integer, got %s", key, kind(mv.Value))
		return nil
	}
	var n int64
	switch x := v.Value.(type) {
	case int64:
		n = x
	case uint64:
		if x > math.MaxInt64 {
			l.add(l.valuePos(mv), "%s: %s is too large", key, v.GetToken().Value)
			return nil
		}
		n = int64(x)
	}
	return &n
}

// stops decodes the stop sequences: a list of non-empty strings.
func (l *linter) stops(key string, mv *ast.MappingValueNode) []string {
	list, where, ok := l.strList(key, mv)
	if !ok {
		return nil
	}
	if len(list) > maxStops {
		l.add(l.valuePos(mv), "%s: %d stop sequences: give at most %d", key, len(list), maxStops)
		return nil
	}
	out := []string{}
	for i, s := range list {
		if s == "" {
			l.add(where[i], "%s: empty stop sequence: remove it", key)
			continue
		}
		out = append(out, s)
	}
	return out
}

// KeyOrder returns the documented order of the keys of a front matter
// mapping: what is "blueprint", "step", "role", "options" or "budget". A new
// key goes in this order, and `factory fmt` sorts keys by it.
func KeyOrder(what string) []string {
	var keys []string
	switch what {
	case "blueprint":
		keys = blueprintKeys
	case "step":
		keys = stepKeys
	case "role":
		keys = roleKeys
	case "options":
		keys = optionKeys
	case "budget":
		keys = budgetKeys
	}
	return append([]string(nil), keys...)
}

// knownKey reports whether key is one of the documented keys of what.
func knownKey(what, key string) bool {
	return contains(KeyOrder(what), strings.TrimSpace(key))
}
