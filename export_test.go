package scim

import "net/http"

// TenantEntries is how many tenants h's per-tenant limiter keeps state for, so that tests can check that it
// stays bounded.
func TenantEntries(h http.Handler) int { return h.(*Handler).h.tenantLim.len() }

// TenantWaiting is how many requests of tenant wait for a slot in h's per-tenant limiter.
func TenantWaiting(h http.Handler, tenant string) int {
	l := h.(*Handler).h.tenantLim
	l.mu.Lock()
	defer l.mu.Unlock()
	if e := l.tenants[tenant]; e != nil {
		return int(e.waiting.Load())
	}
	return 0
}
