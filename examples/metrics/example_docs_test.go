package main

// The Go of docs/observability.md, compiled (the root package's docs_test.go checks that the block there
// equals the region here). main.go is the complete program.

import (
	"net/http"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/scimkit/scim"
	"github.com/scimkit/scim/memstore"
)

func Example_withMetrics() {
	store := memstore.New()
	mux := http.NewServeMux()
	// snippet:prometheus
	reg := prometheus.NewRegistry()
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "scim_requests_total", Help: "SCIM requests served, by resource, method and status code.",
	}, []string{"resource", "method", "status"})
	duration := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "scim_request_duration_seconds", Help: "Time to serve a SCIM request, by resource and method.",
		Buckets: prometheus.DefBuckets,
	}, []string{"resource", "method"})
	reg.MustRegister(requests, duration)

	h := scim.MustNew(store, scim.WithMetrics(func(info scim.RequestInfo) {
		requests.WithLabelValues(info.Resource, info.Method, strconv.Itoa(info.Status)).Inc()
		duration.WithLabelValues(info.Resource, info.Method).Observe(info.Duration.Seconds())
	}))
	mux.Handle("/scim/v2/", http.StripPrefix("/scim/v2", h))
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	// end
}
