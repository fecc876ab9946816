package scim_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/memstore"
)

// failingStore is a Store whose every method fails with err, after waiting for its context when wait is set
// (a database that hangs, then reports its own error for the cancelled work).
type failingStore struct {
	*memstore.Store
	err  error
	wait bool
}

func (s failingStore) fail(ctx context.Context) error {
	if s.wait {
		<-ctx.Done()
	}
	return s.err
}

func (s failingStore) Create(ctx context.Context, _ *scim.User) (*scim.User, error) {
	return nil, s.fail(ctx)
}
func (s failingStore) Get(ctx context.Context, _ string) (*scim.User, error) { return nil, s.fail(ctx) }
func (s failingStore) List(ctx context.Context, _ scim.Query) (*scim.Page, error) {
	return nil, s.fail(ctx)
}

// TestUnavailable: temporary failures answer 503 with Retry-After and a SCIM error body; a Store's ErrBusy
// (the tenant's share in use until its deadline) answers 429 with Retry-After; bugs stay 500 and are not to
// be retried; a request that outlives its deadline is temporary whatever its Store returned; an
// authenticator that cannot reach its database answers 503, never 401.
func TestUnavailable(t *testing.T) {
	outage := fmt.Errorf("%w: dial tcp 127.0.0.1:5432: connect: connection refused", scim.ErrUnavailable)
	tests := []struct {
		name       string
		store      scim.Store
		auth       func(*http.Request) (string, error)
		opts       []scim.Option
		status     int
		retryAfter string
	}{
		{name: "store outage", store: failingStore{err: outage}, status: 503, retryAfter: "2"},
		{name: "configured retry", store: failingStore{err: outage}, opts: []scim.Option{scim.WithLimits(scim.Limits{RetryAfter: 2500 * time.Millisecond})},
			status: 503, retryAfter: "3"},
		{name: "tenant past its share of the store", store: failingStore{err: fmt.Errorf("%w: 2 of 4 connections (%w)",
			scim.ErrBusy, context.DeadlineExceeded), wait: true}, opts: []scim.Option{scim.WithLimits(scim.Limits{RequestTimeout: 30 * time.Millisecond})},
			status: 429, retryAfter: "2"},
		{name: "bug", store: failingStore{err: errors.New("sql: converting argument")}, status: 500},
		{name: "past the deadline", store: failingStore{err: errors.New("interrupted (9)"), wait: true},
			opts: []scim.Option{scim.WithLimits(scim.Limits{RequestTimeout: 30 * time.Millisecond})}, status: 503, retryAfter: "2"},
		{name: "authenticator outage", store: memstore.New(),
			auth: func(*http.Request) (string, error) { return "", outage }, status: 503, retryAfter: "2"},
		{name: "authenticator past the deadline", store: memstore.New(),
			auth: func(r *http.Request) (string, error) { <-r.Context().Done(); return "", r.Context().Err() },
			opts: []scim.Option{scim.WithLimits(scim.Limits{RequestTimeout: 30 * time.Millisecond})}, status: 503, retryAfter: "2"},
		{name: "authenticator refusal", store: memstore.New(),
			auth: func(*http.Request) (string, error) { return "", fmt.Errorf("no such token: %w", scim.ErrUnauthorized) }, status: 401},
		{name: "authenticator failure", store: memstore.New(),
			auth: func(*http.Request) (string, error) { return "", errors.New("accounts table: bad query") }, status: 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if fs, ok := tt.store.(failingStore); ok {
				fs.Store = memstore.New()
				tt.store = fs
			}
			opts := []scim.Option{scim.WithTokens(testToken)}
			if tt.auth != nil {
				opts = []scim.Option{scim.WithAuthenticator(tt.auth)}
			}
			s := serveHandler(t, scim.MustNew(tt.store, append(opts, tt.opts...)...))
			for _, r := range []result{
				s.do("GET", "/Users", ""),
				s.do("GET", "/Users/x", ""),
				s.do("POST", "/Users", `{"userName":"a@example.com"}`),
			} {
				requireError(t, r, tt.status, "")
				require.Equal(t, tt.retryAfter, r.Header.Get("Retry-After"), "%s", r.Raw)
				require.NotContains(t, string(r.Raw), "refused", "no internals in the answer")
			}
		})
	}
}
