package scim_test

import (
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/filter"
)

// TestConfigurationErrors: a mistake in the options is reported when the handler is built (New's error,
// NewHandler's panic), never discovered by a client as a 401 or an unbounded request.
func TestConfigurationErrors(t *testing.T) {
	auth := func(*http.Request) (string, error) { return "", nil }
	hash := scim.HashToken("t").String()
	for _, tt := range []struct {
		name string
		opts []scim.Option
		want string // in the error
	}{
		{"malformed hash", []scim.Option{scim.WithTokenHashes(hash, "abc")}, "WithTokenHashes: hash 1 is not a hex SHA-256"},
		{"hash of the wrong length", []scim.Option{scim.WithTokenHashes(hash[:62])}, "WithTokenHashes: hash 0"},
		{"no hashes", []scim.Option{scim.WithTokenHashes()}, "WithTokenHashes: no tokens given"},
		{"empty token", []scim.Option{scim.WithTokens("")}, "WithTokens: token 0 is empty"},
		{"no tokens", []scim.Option{scim.WithTokens()}, "WithTokens: no tokens given"},
		{"tokens and authenticator", []scim.Option{scim.WithTokens("t"), scim.WithAuthenticator(auth)},
			"WithTokens and WithAuthenticator both set the authentication"},
		{"tokens and hashes", []scim.Option{scim.WithTokens("t"), scim.WithTokenHashes(hash)},
			"WithTokens and WithTokenHashes both set the authentication"},
		{"hashes and authenticator", []scim.Option{scim.WithTokenHashes(hash), scim.WithAuthenticator(auth)},
			"WithTokenHashes and WithAuthenticator both set the authentication"},
		{"tokens twice", []scim.Option{scim.WithTokens("a"), scim.WithTokens("b")},
			"WithTokens and WithTokens both set the authentication"},
		{"nil authenticator", []scim.Option{scim.WithAuthenticator(nil)}, "WithAuthenticator(nil)"},
		{"nil option", []scim.Option{nil}, "a nil Option"},
		{"negative max results", []scim.Option{scim.WithMaxResults(-1)}, "WithMaxResults(-1): must not be negative"},
		{"negative body bytes", []scim.Option{scim.WithMaxBodyBytes(-1)}, "WithMaxBodyBytes(-1)"},
		{"negative group body bytes", []scim.Option{scim.WithMaxGroupBodyBytes(-5)}, "WithMaxGroupBodyBytes(-5)"},
		{"negative operations", []scim.Option{scim.WithMaxOperations(-1)}, "WithMaxOperations(-1)"},
		{"negative values", []scim.Option{scim.WithMaxValues(-1)}, "WithMaxValues(-1)"},
		{"negative resource bytes", []scim.Option{scim.WithMaxResourceBytes(-1)}, "WithMaxResourceBytes(-1)"},
		{"negative attribute names", []scim.Option{scim.WithMaxAttributeNames(-1)}, "WithMaxAttributeNames(-1)"},
		{"negative page bytes", []scim.Option{scim.WithMaxPageBytes(-1)}, "WithMaxPageBytes(-1)"},
		{"negative members returned", []scim.Option{scim.WithMaxMembersReturned(-1)}, "WithMaxMembersReturned(-1)"},
		{"negative retry after", []scim.Option{scim.WithRetryAfter(-time.Second)}, "WithRetryAfter(-1s)"},
		{"negative filter limit", []scim.Option{scim.WithFilterLimits(filter.Limits{MaxDepth: -1})}, "WithFilterLimits"},
		{"negative event queue", []scim.Option{scim.WithEventQueue(scim.EventQueue{Workers: -1})}, "WithEventQueue"},
		{"negative burst", []scim.Option{scim.WithTenantLimits(scim.TenantLimits{Rate: 1, Burst: -1})}, "Burst -1"},
		{"unknown password policy", []scim.Option{scim.WithPasswords(scim.PasswordPolicy(9))}, "WithPasswords(9)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			opts := tt.opts
			if !strings.Contains(tt.name, "token") && !strings.Contains(tt.name, "hash") && !strings.Contains(tt.name, "authenticator") {
				opts = append([]scim.Option{scim.WithTokens("t")}, opts...)
			}
			h, err := scim.New(scim.NewMemoryStore(), opts...)
			require.Nil(t, h)
			require.ErrorIs(t, err, scim.ErrInvalidOption)
			require.ErrorContains(t, err, tt.want)
			require.PanicsWithError(t, err.Error(), func() { scim.NewHandler(scim.NewMemoryStore(), opts...) })
		})
	}

	t.Run("nil store", func(t *testing.T) {
		_, err := scim.New(nil, scim.WithTokens("t"))
		require.ErrorIs(t, err, scim.ErrInvalidOption)
	})
	t.Run("every mistake is reported", func(t *testing.T) {
		_, err := scim.New(scim.NewMemoryStore(), scim.WithTokenHashes("x"), scim.WithMaxResults(-1), scim.WithMaxScan(-1))
		require.ErrorContains(t, err, "WithTokenHashes: hash 0")
		require.ErrorContains(t, err, "WithMaxResults(-1)")
		require.NotContains(t, err.Error(), "WithMaxScan", "NoLimit is a legitimate WithMaxScan")
	})
	t.Run("valid options", func(t *testing.T) {
		h, err := scim.New(scim.NewMemoryStore(), scim.WithTokens("t"))
		require.NoError(t, err)
		require.NotNil(t, h)
	})
}

// TestZeroMeansDefault: every option given zero (or a struct of zero fields) keeps the default; NoLimit
// turns off the bounds that may be off.
func TestZeroMeansDefault(t *testing.T) {
	defaults := scim.SettingsOf(scim.NewHandler(scim.NewMemoryStore(), scim.WithTokens("t")))
	require.Equal(t, 1000, defaults.MaxResults)
	require.Equal(t, 30*time.Second, defaults.Timeout)
	require.Equal(t, &scim.DefaultTenantLimits, defaults.Tenant)

	zero := scim.SettingsOf(scim.NewHandler(scim.NewMemoryStore(), scim.WithTokens("t"),
		scim.WithMaxResults(0), scim.WithMaxBodyBytes(0), scim.WithRequestTimeout(0), scim.WithFilterLimits(filter.Limits{}),
		scim.WithMaxOperations(0), scim.WithMaxValues(0), scim.WithMaxResourceBytes(0), scim.WithMaxScan(0),
		scim.WithMaxPageBytes(0), scim.WithMaxAttributeNames(0), scim.WithTenantLimits(scim.TenantLimits{}),
		scim.WithEventQueue(scim.EventQueue{}), scim.WithRetryAfter(0), scim.WithMaxGroupBodyBytes(0),
		scim.WithMaxMembersReturned(0), scim.WithMaxWork(0)))
	require.Equal(t, defaults, zero)
	require.Equal(t, 1_000_000, defaults.MaxWork)

	// A zero field of TenantLimits keeps its default; the others apply.
	some := scim.SettingsOf(scim.NewHandler(scim.NewMemoryStore(), scim.WithTokens("t"),
		scim.WithTenantLimits(scim.TenantLimits{MaxConcurrent: 2})))
	want := scim.DefaultTenantLimits
	want.MaxConcurrent = 2
	require.Equal(t, &want, some.Tenant)

	off := scim.SettingsOf(scim.NewHandler(scim.NewMemoryStore(), scim.WithTokens("t"),
		scim.WithRequestTimeout(scim.NoLimit), scim.WithMaxScan(scim.NoLimit), scim.WithMaxWork(scim.NoLimit),
		scim.WithTenantLimits(scim.TenantLimits{MaxConcurrent: scim.NoLimit})))
	require.Zero(t, off.MaxWork, "no work budget")
	require.Zero(t, off.Timeout, "no bound on the request")
	require.Zero(t, off.MaxScan, "Query.MaxScan 0: no bound")
	require.Nil(t, off.Tenant, "no per-tenant limits")

	queue := scim.SettingsOf(scim.NewHandler(scim.NewMemoryStore(), scim.WithTokens("t"),
		scim.WithTenantLimits(scim.TenantLimits{MaxQueue: scim.NoLimit, MaxWait: scim.NoLimit, Rate: scim.NoLimit})))
	require.Equal(t, math.MaxInt, queue.Tenant.MaxQueue)
	require.Equal(t, time.Duration(math.MaxInt64), queue.Tenant.MaxWait)
	require.Zero(t, queue.Tenant.Rate)
}
