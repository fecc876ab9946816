package scim

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"time"
)

// RequestInfo is what the handler reports of each request to WithMetrics and WithRequestLog. It holds no
// personal data: no token, no attribute values, no user ids.
type RequestInfo struct {
	// Resource is the endpoint's name: "Users", "Groups", ".search" (POST /.search), "Schemas",
	// "ResourceTypes", "ServiceProviderConfig", "Bulk", "Me", or "" for unknown paths.
	Resource string
	// Route is the path pattern: "/Users", "/Users/{id}", "/Users/.search", "/Schemas/{id}", ...
	Route     string
	Method    string
	Status    int
	ScimType  ScimType
	Duration  time.Duration
	Tenant    string
	RequestID string
	// Ignored names the attributes a write carried that the declared schema does not have (at most 16, as the
	// client spelled them; never their values): count them to find an identity provider mapping an
	// attribute the app does not keep. The handler also logs them, once per request, at Warn.
	Ignored []string
}

// WithMetrics calls fn once for every request, after its response, with its resource, method, status and
// duration: the hook to count requests per resource × method × status and time them in any metrics
// library ([docs/observability.md]). fn runs on the request's goroutine: keep it fast.
//
// [docs/observability.md]: https://github.com/scimkit/scim/blob/main/docs/observability.md
func WithMetrics(fn func(RequestInfo)) Option {
	return func(c *config) {
		if c.notNil("WithMetrics", fn != nil) {
			c.metrics = fn
		}
	}
}

// WithRequestLog writes one structured line per request to l (at Info, or Warn for 5xx): method, route,
// status, scimType, duration, tenant and request id; never a token, a password or an attribute value.
func WithRequestLog(l *slog.Logger) Option {
	return func(c *config) {
		if c.notNil("WithRequestLog", l != nil) {
			c.requestLog = l
		}
	}
}

// statusWriter remembers the status of the response it passes on.
type statusWriter struct {
	http.ResponseWriter
	status int
}

// WriteHeader records the first status and passes it on.
func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write records an implicit 200 and passes the bytes on.
func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer (to flush it).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// finish reports the request to the log and metrics hooks: the response is out by then, so nothing here
// delays or fails it. (Events go to the handler's queue as they commit: see eventQueue.)
func (h *handler) finish(w *statusWriter, r *request, start time.Time) {
	if len(r.ignored) > 0 {
		h.log.LogAttrs(context.WithoutCancel(r.Context()), slog.LevelWarn,
			"scim: ignored attributes outside the declared schema (map them in the app's schema or remove them from the identity provider's mapping)",
			slog.Any("attributes", r.ignored), slog.String("route", r.route), slog.String("tenant", r.tenant),
			slog.String("request_id", r.requestID))
	}
	if h.requestLog != nil || h.metrics != nil {
		info := RequestInfo{
			Resource: r.resource, Route: r.route, Method: r.Method, Status: w.status, ScimType: r.scimType,
			Duration: time.Since(start), Tenant: r.tenant, RequestID: r.requestID, Ignored: r.ignored,
		}
		if h.requestLog != nil {
			level := slog.LevelInfo
			if info.Status >= 500 {
				level = slog.LevelWarn
			}
			h.requestLog.LogAttrs(context.WithoutCancel(r.Context()), level, "scim request",
				slog.String("method", info.Method), slog.String("route", info.Route), slog.Int("status", info.Status),
				slog.String("scimType", string(info.ScimType)), slog.Duration("duration", info.Duration),
				slog.String("tenant", info.Tenant), slog.String("request_id", info.RequestID))
		}
		if h.metrics != nil {
			h.metrics(info)
		}
	}
}

// ignore records that a write carried an attribute outside the declared schema: its name only, bounded in
// count and length whatever the request holds.
func (r *request) ignore(name string) {
	if len(r.ignored) >= 16 {
		return
	}
	if len(name) > 128 {
		name = name[:128] + "…"
	}
	if !slices.Contains(r.ignored, name) {
		r.ignored = append(r.ignored, name)
	}
}
