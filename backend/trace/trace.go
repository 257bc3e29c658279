// Package trace sets up OpenTelemetry tracing for Factory Desk: a tracer
// provider whose spans go to the workspace database through a span
// exporter of its own, and to an OTLP endpoint when the standard
// OTEL_EXPORTER_OTLP_* variables name one; secret values are redacted
// before any exporter sees a span. A run's id is its trace id (StartRun).
// Tree and PrintTree show a recorded trace as an indented tree.
//
// Nothing here is global: the Provider is passed to whatever creates spans.
package trace

import (
	"cmp"
	"context"
	"errors"
	"net/url"
	"os"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	oteltrace "go.opentelemetry.io/otel/trace"

	"factorydesk/backend"
)

// ServiceName is the default service.name resource attribute.
const ServiceName = "factory-desk"

// OTLP protocols, the values of OTEL_EXPORTER_OTLP_PROTOCOL.
const (
	ProtocolHTTP = "http/protobuf"
	ProtocolGRPC = "grpc"
)

// Config configures Setup.
type Config struct {
	// Store receives every span, in batches; nil records nothing locally.
	Store SpanStore
	// Redactor hides secret values from every exporter; nil hides nothing.
	Redactor *Redactor
	// Getenv reads the variables that choose the OTLP exporter:
	// OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT, OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL
	// and OTEL_TRACES_EXPORTER ("none" turns OTLP off). nil means os.Getenv.
	// The exporter reads its other settings (headers, timeout, compression,
	// certificates) and the resource its OTEL_RESOURCE_ATTRIBUTES and
	// OTEL_SERVICE_NAME from the process environment.
	Getenv func(string) string
	// ServiceName is the service.name resource attribute; "" means
	// ServiceName. OTEL_SERVICE_NAME overrides it.
	ServiceName string
	// ServiceVersion is the service.version resource attribute, if not "".
	ServiceVersion string
	// BatchOptions tune the batch span processors (batch size, timeout).
	BatchOptions []sdktrace.BatchSpanProcessorOption
}

// Provider makes the tracers of Factory Desk. Call Shutdown before exit to
// export the spans still queued.
type Provider struct {
	tp *sdktrace.TracerProvider
}

// Setup returns a Provider that samples every span and exports it, redacted
// by cfg.Redactor, to cfg.Store and to the OTLP endpoint the environment
// names, if any. Each destination has its own batch span processor: a slow
// collector does not hold up the local record, and the local record waits
// rather than drops spans when its queue is full. The OTLP exporter
// connects lazily; an unreachable collector is not an error here.
func Setup(ctx context.Context, cfg Config) (*Provider, error) {
	getenv := cfg.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	res, err := newResource(ctx, cfg)
	if err != nil {
		return nil, err
	}
	opts := []sdktrace.TracerProviderOption{
		sdktrace.WithResource(res),
		sdktrace.WithIDGenerator(runIDGenerator{}),
		sdktrace.WithSampler(sdktrace.AlwaysSample()),
	}
	if cfg.Store != nil {
		bopts := append([]sdktrace.BatchSpanProcessorOption{sdktrace.WithBlocking()}, cfg.BatchOptions...)
		exp := RedactExporter(NewSQLiteExporter(cfg.Store), cfg.Redactor)
		opts = append(opts, sdktrace.WithBatcher(exp, bopts...))
	}
	otlp, err := newOTLPExporter(ctx, getenv)
	if err != nil {
		return nil, err
	}
	if otlp != nil {
		opts = append(opts, sdktrace.WithBatcher(RedactExporter(otlp, cfg.Redactor), cfg.BatchOptions...))
	}
	return &Provider{tp: sdktrace.NewTracerProvider(opts...)}, nil
}

// newResource describes this process: service name and version, the SDK,
// and what OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME add.
func newResource(ctx context.Context, cfg Config) (*resource.Resource, error) {
	attrs := []attribute.KeyValue{attribute.String(attrServiceName, cmp.Or(cfg.ServiceName, ServiceName))}
	if cfg.ServiceVersion != "" {
		attrs = append(attrs, attribute.String(attrServiceVersion, cfg.ServiceVersion))
	}
	res, err := resource.New(ctx, resource.WithAttributes(attrs...), resource.WithTelemetrySDK(), resource.WithFromEnv())
	if err != nil {
		return nil, backend.WrapError(backend.EINVALID, err,
			"describe the trace resource (check OTEL_RESOURCE_ATTRIBUTES: key=value pairs separated by commas)")
	}
	return res, nil
}

// newOTLPExporter returns the OTLP exporter the environment asks for, or nil.
func newOTLPExporter(ctx context.Context, getenv func(string) string) (sdktrace.SpanExporter, error) {
	if strings.TrimSpace(getenv("OTEL_TRACES_EXPORTER")) == "none" {
		return nil, nil
	}
	endpointVar := "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
	endpoint := getenv(endpointVar)
	if endpoint == "" {
		endpointVar = "OTEL_EXPORTER_OTLP_ENDPOINT"
		endpoint = getenv(endpointVar)
	}
	if endpoint == "" {
		return nil, nil
	}
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, backend.Errorf(backend.EINVALID,
			"%s=%q is not a URL like http://localhost:4318 (http or https, host and port)", endpointVar, endpoint)
	}
	protoVar := "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"
	proto := getenv(protoVar)
	if proto == "" {
		protoVar = "OTEL_EXPORTER_OTLP_PROTOCOL"
		proto = cmp.Or(getenv(protoVar), ProtocolHTTP)
	}
	var exp sdktrace.SpanExporter
	switch proto {
	case ProtocolHTTP:
		if endpointVar == "OTEL_EXPORTER_OTLP_ENDPOINT" {
			// The general endpoint is a base URL; the signal's path follows it.
			u = u.JoinPath("v1", "traces")
		}
		exp, err = otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(u.String()))
	case ProtocolGRPC:
		exp, err = otlptracegrpc.New(ctx, otlptracegrpc.WithEndpointURL(u.String()))
	default:
		return nil, backend.Errorf(backend.EINVALID, "%s=%q is not supported; use %s or %s",
			protoVar, proto, ProtocolHTTP, ProtocolGRPC)
	}
	if err != nil {
		return nil, backend.WrapError(backend.EINVALID, err, "create the OTLP exporter for %s", u)
	}
	return exp, nil
}

// Tracer returns the tracer of an instrumentation scope, such as
// "factorydesk/engine".
func (p *Provider) Tracer(name string, opts ...oteltrace.TracerOption) oteltrace.Tracer {
	return p.tp.Tracer(name, opts...)
}

// TracerProvider returns the provider as the OpenTelemetry interface, for
// libraries that take one.
func (p *Provider) TracerProvider() oteltrace.TracerProvider {
	return p.tp
}

// ForceFlush exports every ended span now and waits until it is stored.
func (p *Provider) ForceFlush(ctx context.Context) error {
	return exportError(p.tp.ForceFlush(ctx), "flush spans")
}

// Shutdown exports the spans still queued and stops the exporters. Spans
// started afterwards are not recorded.
func (p *Provider) Shutdown(ctx context.Context) error {
	return exportError(p.tp.Shutdown(ctx), "shut tracing down")
}

// exportError makes err a *backend.Error: an error of the store keeps its
// code, a canceled context is ECANCELED, another (a collector that cannot
// be reached) EUNAVAILABLE.
func exportError(err error, what string) error {
	if err == nil {
		return nil
	}
	var be *backend.Error
	if errors.As(err, &be) {
		return err
	}
	code := backend.EUNAVAILABLE
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		code = backend.ECANCELED
	}
	return backend.WrapError(code, err, "%s (check OTEL_EXPORTER_OTLP_ENDPOINT and that the collector runs)", what)
}
