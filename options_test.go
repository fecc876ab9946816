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
	"github.com/scimkit/scim/memstore"
)

// TestConfigurationErrors: a mistake in the options is reported when the handler is built (New's error,
// MustNew's panic), never discovered by a client as a 401 or an unbounded request.
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
		{"nil logger", []scim.Option{scim.WithLogger(nil)}, "WithLogger(nil)"},
		{"nil request log", []scim.Option{scim.WithRequestLog(nil)}, "WithRequestLog(nil)"},
		{"nil metrics", []scim.Option{scim.WithMetrics(nil)}, "WithMetrics(nil)"},
		{"nil events", []scim.Option{scim.WithEvents(nil)}, "WithEvents(nil)"},
		{"nil user schema", []scim.Option{scim.WithUserSchema(nil)}, "WithUserSchema(nil)"},
		{"nil option", []scim.Option{nil}, "a nil Option"},
		{"negative max results", []scim.Option{scim.WithLimits(scim.Limits{MaxResults: -2})}, "Limits.MaxResults is -2: a bound is positive, 0 (the default) or NoLimit"},
		{"negative body bytes", []scim.Option{scim.WithLimits(scim.Limits{MaxBodyBytes: -2})}, "Limits.MaxBodyBytes is -2"},
		{"negative group body bytes", []scim.Option{scim.WithLimits(scim.Limits{MaxGroupBodyBytes: -5})}, "Limits.MaxGroupBodyBytes is -5"},
		{"negative operations", []scim.Option{scim.WithLimits(scim.Limits{MaxOperations: -2})}, "Limits.MaxOperations is -2"},
		{"negative bulk operations", []scim.Option{scim.WithLimits(scim.Limits{MaxBulkOperations: -2})}, "Limits.MaxBulkOperations is -2"},
		{"negative bulk payload", []scim.Option{scim.WithLimits(scim.Limits{MaxBulkPayload: -3})}, "Limits.MaxBulkPayload is -3"},
		{"negative values", []scim.Option{scim.WithLimits(scim.Limits{MaxValues: -2})}, "Limits.MaxValues is -2"},
		{"negative resource bytes", []scim.Option{scim.WithLimits(scim.Limits{MaxResourceBytes: -2})}, "Limits.MaxResourceBytes is -2"},
		{"negative attribute names", []scim.Option{scim.WithLimits(scim.Limits{MaxAttributeNames: -2})}, "Limits.MaxAttributeNames is -2"},
		{"negative page bytes", []scim.Option{scim.WithLimits(scim.Limits{MaxPageBytes: -2})}, "Limits.MaxPageBytes is -2"},
		{"negative members returned", []scim.Option{scim.WithLimits(scim.Limits{MaxMembersReturned: -2})}, "Limits.MaxMembersReturned is -2"},
		{"negative scan", []scim.Option{scim.WithLimits(scim.Limits{MaxScan: -2})}, "Limits.MaxScan is -2"},
		{"negative work", []scim.Option{scim.WithLimits(scim.Limits{MaxWork: -2})}, "Limits.MaxWork is -2"},
		{"negative timeout", []scim.Option{scim.WithLimits(scim.Limits{RequestTimeout: -time.Second})}, "Limits.RequestTimeout is -1s"},
		{"negative retry after", []scim.Option{scim.WithLimits(scim.Limits{RetryAfter: -time.Second})}, "Limits.RetryAfter is -1s"},
		{"negative filter limit", []scim.Option{scim.WithLimits(scim.Limits{Filter: filter.Limits{MaxDepth: -2}})}, "Limits.Filter.MaxDepth is -2"},
		{"negative tenant wait", []scim.Option{scim.WithLimits(scim.Limits{Tenant: scim.TenantLimits{MaxWait: -time.Second}})}, "Limits.Tenant.MaxWait is -1s"},
		{"negative tenant rate", []scim.Option{scim.WithLimits(scim.Limits{Tenant: scim.TenantLimits{Rate: -0.5}})}, "Limits.Tenant.Rate is -0.5"},
		{"negative event queue", []scim.Option{scim.WithLimits(scim.Limits{Events: scim.EventQueue{Workers: -1}})}, "Limits.Events.Workers is negative"},
		{"event queue without NoLimit", []scim.Option{scim.WithLimits(scim.Limits{Events: scim.EventQueue{Size: scim.NoLimit}})}, "Limits.Events.Size is negative"},
		{"negative burst", []scim.Option{scim.WithLimits(scim.Limits{Tenant: scim.TenantLimits{Rate: 1, Burst: -2}})}, "Limits.Tenant.Burst is -2"},
		{"unknown password policy", []scim.Option{scim.WithPasswords(scim.PasswordPolicy(9))}, "WithPasswords(9)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			opts := tt.opts
			if !strings.Contains(tt.name, "token") && !strings.Contains(tt.name, "hash") && !strings.Contains(tt.name, "authenticator") {
				opts = append([]scim.Option{scim.WithTokens("t")}, opts...)
			}
			h, err := scim.New(memstore.New(), opts...)
			require.Nil(t, h)
			require.ErrorIs(t, err, scim.ErrInvalidOption)
			require.ErrorContains(t, err, tt.want)
			require.PanicsWithError(t, err.Error(), func() { scim.MustNew(memstore.New(), opts...) })
		})
	}

	t.Run("nil store", func(t *testing.T) {
		_, err := scim.New(nil, scim.WithTokens("t"))
		require.ErrorIs(t, err, scim.ErrInvalidOption)
	})
	t.Run("every mistake is reported", func(t *testing.T) {
		_, err := scim.New(memstore.New(), scim.WithTokenHashes("x"), scim.WithLimits(scim.Limits{MaxResults: -3, MaxScan: scim.NoLimit}))
		require.ErrorContains(t, err, "WithTokenHashes: hash 0")
		require.ErrorContains(t, err, "Limits.MaxResults is -3")
		require.NotContains(t, err.Error(), "MaxScan", "NoLimit is a legitimate MaxScan")
	})
	t.Run("valid options", func(t *testing.T) {
		h, err := scim.New(memstore.New(), scim.WithTokens("t"))
		require.NoError(t, err)
		require.NotNil(t, h)
	})
}

// TestZeroMeansDefault: a zero Limits (or a zero field) keeps every default; NoLimit turns every bound off;
// WithLimits given twice sets the fields each gives.
func TestZeroMeansDefault(t *testing.T) {
	defaults := scim.SettingsOf(scim.MustNew(memstore.New(), scim.WithTokens("t")))
	require.Equal(t, scim.Settings{MaxResults: 1000, MaxOps: 1000, MaxValues: 1000, MaxAttrNames: 100, MaxScan: 10000,
		MaxPageBytes: 8 << 20, MaxMembers: 10000, MaxWork: 1_000_000, MaxResourceBytes: 1<<20 + 1024,
		MaxBodyBytes: 1 << 20, MaxGroupBodyBytes: 16 << 20, MaxBulkOps: 1000, MaxBulkPayload: 1 << 20, Timeout: 30 * time.Second, RetryAfter: 2 * time.Second,
		Filter: filter.DefaultLimits, Tenant: &scim.DefaultTenantLimits}, defaults)

	zero := scim.SettingsOf(scim.MustNew(memstore.New(), scim.WithTokens("t"),
		scim.WithLimits(scim.Limits{}), scim.WithLimits(scim.Limits{Events: scim.EventQueue{}})))
	require.Equal(t, defaults, zero)

	// A zero field of TenantLimits keeps its default; the others apply.
	some := scim.SettingsOf(scim.MustNew(memstore.New(), scim.WithTokens("t"),
		scim.WithLimits(scim.Limits{Tenant: scim.TenantLimits{MaxConcurrent: 2}})))
	want := scim.DefaultTenantLimits
	want.MaxConcurrent = 2
	require.Equal(t, &want, some.Tenant)

	// WithLimits twice: the second's zero fields do not undo the first's.
	both := scim.SettingsOf(scim.MustNew(memstore.New(), scim.WithTokens("t"),
		scim.WithLimits(scim.Limits{MaxResults: 5, Filter: filter.Limits{MaxTerms: 7}}),
		scim.WithLimits(scim.Limits{MaxScan: 50, Filter: filter.Limits{MaxDepth: 3}})))
	require.Equal(t, 5, both.MaxResults)
	require.Equal(t, 50, both.MaxScan)
	require.Equal(t, 7, both.Filter.MaxTerms)
	require.Equal(t, 3, both.Filter.MaxDepth)
	require.Equal(t, filter.DefaultLimits.MaxLength, both.Filter.MaxLength)
	events := scim.SettingsOf(scim.MustNew(memstore.New(), scim.WithTokens("t"),
		scim.WithLimits(scim.Limits{Events: scim.EventQueue{Workers: 2}}), scim.WithLimits(scim.Limits{Events: scim.EventQueue{Size: 9}})))
	require.Equal(t, scim.EventQueue{Workers: 2, Size: 9}, events.Events, "Events merge field by field too")

	// NoLimit, in every field: each bound off.
	none := scim.SettingsOf(scim.MustNew(memstore.New(), scim.WithTokens("t"), scim.WithLimits(scim.Limits{
		MaxBodyBytes: scim.NoLimit, MaxGroupBodyBytes: scim.NoLimit, MaxResourceBytes: scim.NoLimit,
		MaxPageBytes: scim.NoLimit, MaxResults: scim.NoLimit, MaxMembersReturned: scim.NoLimit,
		MaxOperations: scim.NoLimit, MaxBulkOperations: scim.NoLimit, MaxBulkPayload: scim.NoLimit, MaxValues: scim.NoLimit, MaxAttributeNames: scim.NoLimit, MaxScan: scim.NoLimit,
		MaxWork: scim.NoLimit, RequestTimeout: scim.NoLimit, RetryAfter: scim.NoLimit,
		Filter: filter.Limits{MaxLength: scim.NoLimit, MaxDepth: scim.NoLimit, MaxTerms: scim.NoLimit, MaxMultiValued: scim.NoLimit},
		Tenant: scim.TenantLimits{MaxConcurrent: scim.NoLimit},
	})))
	require.Equal(t, scim.Settings{MaxResults: math.MaxInt32, MaxOps: math.MaxInt, MaxValues: math.MaxInt,
		MaxAttrNames: math.MaxInt, MaxScan: 0 /* Query.MaxScan 0: no bound */, MaxPageBytes: math.MaxInt,
		MaxMembers: math.MaxInt32, MaxWork: 0, MaxResourceBytes: math.MaxInt, MaxBodyBytes: math.MaxInt64,
		MaxGroupBodyBytes: math.MaxInt64, MaxBulkOps: math.MaxInt, MaxBulkPayload: math.MaxInt64 - 1, Timeout: 0, RetryAfter: 0,
		Filter: filter.Limits{MaxLength: math.MaxInt32, MaxDepth: math.MaxInt32, MaxTerms: math.MaxInt32, MaxMultiValued: math.MaxInt32},
		Tenant: nil /* no per-tenant limits */}, none)

	queue := scim.SettingsOf(scim.MustNew(memstore.New(), scim.WithTokens("t"),
		scim.WithLimits(scim.Limits{Tenant: scim.TenantLimits{MaxQueue: scim.NoLimit, MaxWait: scim.NoLimit, Rate: scim.NoLimit}})))
	require.Equal(t, math.MaxInt, queue.Tenant.MaxQueue)
	require.Equal(t, time.Duration(math.MaxInt64), queue.Tenant.MaxWait)
	require.Zero(t, queue.Tenant.Rate)

	burst := scim.SettingsOf(scim.MustNew(memstore.New(), scim.WithTokens("t"),
		scim.WithLimits(scim.Limits{Tenant: scim.TenantLimits{MaxConcurrent: scim.NoLimit, Rate: 5, Burst: scim.NoLimit}})))
	require.Nil(t, burst.Tenant, "a bucket without bound: no rate limit, so no limiter at all")
}
