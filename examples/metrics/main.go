// Command metrics shows scim.WithMetrics wired to Prometheus: it serves SCIM 2.0 at /scim/v2 over a
// memstore and the Prometheus metrics at /metrics, beside each other.
//
//	SCIM_TOKEN=secret go run ./examples/metrics     # http://localhost:8091
//	curl -H 'Authorization: Bearer secret' http://localhost:8091/scim/v2/Users
//	curl -s http://localhost:8091/metrics | grep scim_
//
// Two metrics are exported:
//
//	scim_requests_total{resource,method,status}           counter
//	scim_request_duration_seconds{resource,method}        histogram
//
// The labels come from scim.RequestInfo: the resource ("Users", "Schemas", ...; "" for unknown paths), the
// HTTP method and the status code, so their number stays small. RequestInfo carries no personal data: no
// token, user id or attribute value ever becomes a label. Without SCIM_TOKEN the program generates a token
// and writes it to -token-file (metrics-token.txt, readable by its owner only), never to stdout.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/examples/internal/host"
	"github.com/scimkit/scim/memstore"
)

// metrics are the SCIM request metrics, registered with one Prometheus registry.
type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// newMetrics creates the metrics and registers them with reg.
func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "scim_requests_total",
			Help: "SCIM requests served, by resource, method and status code.",
		}, []string{"resource", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "scim_request_duration_seconds",
			Help:    "Time to serve a SCIM request, by resource and method.",
			Buckets: prometheus.DefBuckets,
		}, []string{"resource", "method"}),
	}
	reg.MustRegister(m.requests, m.duration)
	return m
}

// observe is the scim.WithMetrics hook: it runs once per request, after the response.
func (m *metrics) observe(info scim.RequestInfo) {
	m.requests.WithLabelValues(info.Resource, info.Method, strconv.Itoa(info.Status)).Inc()
	m.duration.WithLabelValues(info.Resource, info.Method).Observe(info.Duration.Seconds())
}

// newServer returns the program's routes: SCIM at /scim/v2 (accepting token), counted in m, and the metrics
// of reg at /metrics.
func newServer(store scim.Store, token string, m *metrics, reg *prometheus.Registry) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/scim/v2/", http.StripPrefix("/scim/v2",
		scim.MustNew(store, scim.WithTokens(token), scim.WithMetrics(m.observe))))
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	return mux
}

func main() {
	addr := flag.String("addr", ":8091", "address to listen on")
	tokenFile := flag.String("token-file", "metrics-token.txt", "where a generated token is written (mode 0600) when SCIM_TOKEN is unset")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *addr, *tokenFile); err != nil {
		slog.Error("metrics example failed", "error", err)
		os.Exit(1)
	}
}

// run serves until ctx ends, then shuts down gracefully.
func run(ctx context.Context, addr, tokenFile string) error {
	token := os.Getenv("SCIM_TOKEN")
	if token == "" {
		token, _ = scim.MintToken()
		path, err := host.WriteSecret(tokenFile, []byte(token+"\n"))
		if err != nil {
			return err
		}
		fmt.Printf("SCIM_TOKEN not set: generated a token, written to %s\n", path)
	}
	// A registry of our own rather than prometheus.DefaultRegisterer: no global state. Add the Go and
	// process collectors to it if you want them (collectors.NewGoCollector()).
	reg := prometheus.NewRegistry()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	base := host.URL(ln.Addr())
	fmt.Printf("SCIM at %s/scim/v2, metrics at %s/metrics\n", base, base)
	srv := host.NewServer(newServer(memstore.New(), token, newMetrics(reg), reg))
	return host.Serve(ctx, srv, ln)
}
