package scim_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/memstore"
)

// single is the context a test gives a Store directly, outside a request: the single-tenant tenant "".
func single() context.Context { return scim.ContextWithTenant(context.Background(), "") }

// TestTenant: Tenant tells the tenant "" from no tenant at all.
func TestTenant(t *testing.T) {
	_, err := scim.Tenant(context.Background())
	require.ErrorIs(t, err, scim.ErrNoTenant)

	tenant, err := scim.Tenant(scim.ContextWithTenant(context.Background(), ""))
	require.NoError(t, err)
	require.Empty(t, tenant)

	tenant, err = scim.Tenant(scim.ContextWithTenant(context.Background(), "acme"))
	require.NoError(t, err)
	require.Equal(t, "acme", tenant)
}

// TestTenantInRequest: a Store called by the handler sees the tenant the authenticator returned ("" for
// WithTokens); an authenticator calling a Store before the tenant is known gets ErrNoTenant, even when a
// host middleware put a tenant in the request's context.
func TestTenantInRequest(t *testing.T) {
	store := memstore.New()
	var during error
	h := scim.MustNew(store, scim.WithAuthenticator(func(r *http.Request) (string, error) {
		_, during = scim.Tenant(r.Context())
		_, err := store.List(r.Context(), scim.Query{Count: 1})
		require.ErrorIs(t, err, scim.ErrNoTenant)
		return "acme", nil
	}))
	s := serveHandler(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(scim.ContextWithTenant(r.Context(), "outer")))
	}))
	r := s.do("POST", "/Users", `{"userName":"a@example.com"}`, "Authorization", "Bearer x")
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Raw)
	require.ErrorIs(t, during, scim.ErrNoTenant)

	_, err := store.Get(scim.ContextWithTenant(context.Background(), "acme"), r.Body["id"].(string))
	require.NoError(t, err, "the user went to the authenticated tenant")
	_, err = store.Get(scim.ContextWithTenant(context.Background(), "outer"), r.Body["id"].(string))
	require.ErrorIs(t, err, scim.ErrNotFound)
}
