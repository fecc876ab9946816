package scim_test

import (
	"context"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/filter"
	"github.com/scimkit/scim/memstore"
)

// TestTokenHashes: a host that keeps only token hashes authenticates as one that keeps the tokens.
func TestTokenHashes(t *testing.T) {
	tok, h := scim.MintToken()
	require.Len(t, tok, 43, "256 bits in URL-safe base64")
	require.Regexp(t, `^[A-Za-z0-9_-]+$`, tok)
	require.Equal(t, scim.HashToken(tok), h)
	hash := h.String()
	require.Regexp(t, `^[0-9a-f]{64}$`, hash)
	other, _ := scim.MintToken()
	require.NotEqual(t, tok, other)

	s := serveHandler(t, scim.MustNew(memstore.New(), scim.WithTokenHashes(strings.ToUpper(hash))))
	require.Equal(t, 200, s.do("GET", "/Users", "", "Authorization", "Bearer "+tok).Status, "hex in either case")
	// The hash itself is no token.
	requireError(t, s.do("GET", "/Users", "", "Authorization", "Bearer "+hash), 401, "")

	// A malformed hash is a configuration error, not a token silently left out.
	_, err := scim.New(memstore.New(), scim.WithTokenHashes(hash, "not-a-hash"))
	require.ErrorIs(t, err, scim.ErrInvalidOption)
	require.ErrorContains(t, err, "WithTokenHashes: hash 1 is not a hex SHA-256")
}

// TestMaxOperations: a PATCH with more operations than the limit is refused whole.
func TestMaxOperations(t *testing.T) {
	s := newTestServer(t, scim.WithLimits(scim.Limits{MaxOperations: 2}))
	id := s.createUser("ops@example.com")
	op := `{"op":"replace","path":"displayName","value":"x"}`
	require.Equal(t, 200, s.do("PATCH", "/Users/"+id, patchOp(op, op)).Status)
	r := s.do("PATCH", "/Users/"+id, patchOp(op, op, op))
	requireError(t, r, 400, "invalidValue")
	require.Contains(t, r.Body["detail"], "at most 2 operations")
}

// TestFilterLimits: filters longer or deeper than configured are invalidFilter, not work.
func TestFilterLimits(t *testing.T) {
	s := newTestServer(t, scim.WithLimits(scim.Limits{Filter: filter.Limits{MaxLength: 40, MaxDepth: 2}}))
	require.Equal(t, 200, s.do("GET", "/Users?filter="+url.QueryEscape(`userName eq "a"`), "").Status)
	requireError(t, s.do("GET", "/Users?filter="+url.QueryEscape(`userName eq "`+strings.Repeat("a", 40)+`"`), ""), 400, "invalidFilter")
	requireError(t, s.do("GET", "/Users?filter="+url.QueryEscape(`not (not (not (title pr)))`), ""), 400, "invalidFilter")
}

// slowStore is a Store whose List waits for its context, as a stuck database would.
type slowStore struct {
	*memstore.Store
	sawDeadline chan bool
}

func (s slowStore) List(ctx context.Context, q scim.Query) (*scim.Page, error) {
	_, has := ctx.Deadline()
	s.sawDeadline <- has
	<-ctx.Done()
	return nil, ctx.Err()
}

// TestRequestTimeout: the Store works under the request's deadline, and a request that runs out answers 503.
func TestRequestTimeout(t *testing.T) {
	store := slowStore{memstore.New(), make(chan bool, 1)}
	s := serveHandler(t, scim.MustNew(store, scim.WithTokens(testToken), scim.WithLimits(scim.Limits{RequestTimeout: 50 * time.Millisecond})))
	start := time.Now()
	r := s.do("GET", "/Users", "")
	requireError(t, r, 503, "")
	require.True(t, <-store.sawDeadline, "the Store's context carries the deadline")
	require.Less(t, time.Since(start), 5*time.Second)
	require.NotContains(t, string(r.Raw), "deadline", "no internals in the answer")
}

// TestNoPersonalDataInErrorsOrLogs: error details and logs never carry a token, a password or the personal
// data a client sent, whatever goes wrong.
func TestNoPersonalDataInErrorsOrLogs(t *testing.T) {
	const secret = "Marker.Person@secret.example"
	var logs strings.Builder
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s := newTestServer(t, scim.WithLogger(logger))
	id := s.createUser(secret)
	answers := []result{
		s.do("POST", "/Users", `{"userName":"`+secret+`","password":"`+secret+`"}`),       // 409
		s.do("POST", "/Users", `{"userName":"x","active":"`+secret+`"}`),                  // 400 invalidValue
		s.do("POST", "/Users", `{"userName":"`+secret+`",`),                               // 400 invalidSyntax
		s.do("GET", "/Users?filter="+url.QueryEscape(`userName eq "`+secret+`\x"`), ""),   // bad escape
		s.do("GET", "/Users?filter="+url.QueryEscape(`meta.created gt "`+secret+`"`), ""), // not a dateTime
		s.do("GET", "/Users?filter="+url.QueryEscape(`userName eq "`+secret+`" and`), ""), // malformed
		s.do("PATCH", "/Users/"+id, patchOp(`{"op":"replace","path":"active","value":"`+secret+`"}`)),
		s.do("PATCH", "/Users/"+id, patchOp(`{"op":"replace","path":"emails[type eq \"nonexistent\"].value","value":"`+secret+`"}`)),
		s.do("GET", "/Users", "", "Authorization", "Bearer "+secret), // 401
	}
	for _, r := range answers {
		require.GreaterOrEqual(t, r.Status, 400, "%s", r.Raw)
		require.NotContains(t, strings.ToLower(string(r.Raw)), strings.ToLower(secret))
	}
	require.NotContains(t, strings.ToLower(logs.String()), strings.ToLower(secret))
	require.NotContains(t, logs.String(), "Bearer")
}
