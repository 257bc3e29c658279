// Package backend holds Factory Desk's domain types, errors and the small
// interfaces its adapters implement. It depends on nothing but the standard
// library; implementations live in subpackages named after what they wrap.
package backend

import (
	"context"
	"errors"
	"fmt"
)

// Error codes. They are translated to exit codes, HTTP statuses and messages
// only at the edges (CLI, app adapters).
const (
	EINVALID     = "invalid"     // bad input: blueprint, flag, answer
	ENOTFOUND    = "not_found"   // a run, step, blueprint, model that does not exist
	ECONFLICT    = "conflict"    // state forbids the operation
	EUNAVAILABLE = "unavailable" // a dependency (model server) cannot be reached
	ECANCELED    = "canceled"    // the operation was canceled
	EINTERNAL    = "internal"    // a bug or an unexpected failure
)

// ErrServerFailure is wrapped by the errors of a model server that failed
// on its side (an HTTP 5xx answer, e.g. out of GPU memory): an
// infrastructure failure, not a fault of the model's answer, worth trying
// again after a pause.
var ErrServerFailure = errors.New("the model server failed")

// Error is the one error type of the domain. Code is one of the E* constants,
// Message is meant for the operator, Err is the wrapped cause, if any.
type Error struct {
	Code    string
	Message string
	Err     error
}

// Error implements the error interface.
func (e *Error) Error() string {
	switch {
	case e.Message != "" && e.Err != nil:
		return e.Message + ": " + e.Err.Error()
	case e.Message != "":
		return e.Message
	case e.Err != nil:
		return e.Err.Error()
	}
	return e.Code
}

// Unwrap returns the wrapped cause.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// WrapError returns an *Error with the given code and message wrapping err.
func WrapError(code string, err error, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Err: err}
}

// ErrorCode returns the code of the first *Error in err's chain,
// ECANCELED for context cancellation, EINTERNAL otherwise, "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) && e.Code != "" {
		return e.Code
	}
	if errors.Is(err, context.Canceled) {
		return ECANCELED
	}
	return EINTERNAL
}
