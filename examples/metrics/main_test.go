package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/scimkit/scim/memstore"
)

func TestRequestsAreCounted(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := newMetrics(reg)
	h := newServer(memstore.New(), "secret", m, reg)

	// serve runs the request to its end: the metrics hook has run when ServeHTTP returns.
	serve := func(method, path, token, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		if body != "" {
			req.Header.Set("Content-Type", "application/scim+json")
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}

	listed := m.requests.WithLabelValues("Users", "GET", "200")
	require.Zero(t, testutil.ToFloat64(listed))
	require.Equal(t, http.StatusOK, serve("GET", "/scim/v2/Users", "secret", "").Code)
	require.Equal(t, 1.0, testutil.ToFloat64(listed))
	require.Equal(t, http.StatusOK, serve("GET", "/scim/v2/Users", "secret", "").Code)
	require.Equal(t, 2.0, testutil.ToFloat64(listed))

	require.Equal(t, http.StatusCreated, serve("POST", "/scim/v2/Users", "secret", `{"userName":"jane@contoso.com"}`).Code)
	require.Equal(t, 1.0, testutil.ToFloat64(m.requests.WithLabelValues("Users", "POST", "201")))
	require.Equal(t, http.StatusUnauthorized, serve("GET", "/scim/v2/Users", "wrong", "").Code)
	require.Equal(t, 1.0, testutil.ToFloat64(m.requests.WithLabelValues("Users", "GET", "401")))
	require.Equal(t, 2, testutil.CollectAndCount(m.duration), "one histogram per resource and method")

	rec := serve("GET", "/metrics", "", "")
	require.Equal(t, http.StatusOK, rec.Code)
	require.Contains(t, rec.Body.String(), `scim_requests_total{method="GET",resource="Users",status="200"} 2`)
	require.Contains(t, rec.Body.String(), `scim_request_duration_seconds_count{method="GET",resource="Users"} 3`)
	require.NotContains(t, rec.Body.String(), "jane", "no personal data in the metrics")
}
