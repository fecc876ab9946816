package scim

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
)

// request is one request the handler serves and what the handler learns while serving it. It is passed
// explicitly to every function that reads or records any of it, never through the context: the context
// carries only what a Store reads, the tenant (reqCtx).
type request struct {
	*http.Request
	requestID, tenant string
	authenticated     bool // tenant is set: the context answers Tenant
	resource, route   string
	scimType          ScimType
	base              string       // the mount point's absolute URL, once computed
	ignored           []string     // attributes outside the declaration that a write carried
	work              workBudget   // what the request may still spend (Limits.MaxWork)
	bulkOp            bool         // an operation of a Bulk: a success's body is not part of the answer
	w                 statusWriter // allocated with the request: one allocation less a request
}

// reqCtx is the context of a request the handler serves: once the request is authenticated, it carries its
// tenant (tenantKey, what Tenant reads) without an allocation of its own. Before authentication it has no
// tenant, even one a host's middleware set: an authenticator's Store calls get ErrNoTenant unless it gives
// them one. Tenant thus reads a plain string under its own key, and the handler's request state is never
// reachable from a context.
type reqCtx struct {
	context.Context
	r *request
}

// Value implements context.Context.
func (c *reqCtx) Value(key any) any {
	if _, ok := key.(tenantKey); ok {
		if c.r.authenticated {
			return c.r.tenant
		}
		return nil
	}
	return c.Context.Value(key)
}

// requestID returns the client's X-Request-Id when it is a sane token, else a new random id.
func requestID(r *http.Request) string {
	if id := r.Header.Get("X-Request-Id"); id != "" && len(id) <= 128 && isToken(id) {
		return id
	}
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func isToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}
