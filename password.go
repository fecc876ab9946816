package scim

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"sync"

	"golang.org/x/crypto/bcrypt"

	"github.com/scimkit/scim/schema"
)

// PasswordPolicy is what the handler does with the write-only password attribute (RFC 7643 §4.1.1).
type PasswordPolicy int

const (
	// PasswordsIgnored accepts a password sent in POST, PUT or PATCH and drops it, reporting the attribute as
	// ignored like any attribute outside the declaration (RequestInfo.Ignored, and a Warn log line). The
	// identity provider is told nothing: it believes the password was synced. Choose it only for a provider
	// that cannot be told to stop sending passwords, and alert on the report. /ServiceProviderConfig
	// advertises changePassword false and /Schemas omits the attribute.
	PasswordsIgnored PasswordPolicy = iota
	// PasswordsRefused answers a write carrying a password with 400 mutability, whose detail names the policy:
	// the identity provider records a failed push its admin sees (Okta's "Sync password", an Entra mapping of
	// the password), instead of believing the password was synced. It is the default: most apps that take
	// users from Entra ID or Okta sign them in through SSO and have no use for a password. A PATCH that only
	// removes the password is not refused (there is none). /ServiceProviderConfig advertises changePassword
	// false.
	PasswordsRefused
	// PasswordsHashed hashes a password sent in POST, PUT or PATCH with bcrypt and hands the Store only the
	// hash (User.PasswordHash), so that Okta's password sync works; the host checks a sign-in with
	// CheckPassword. changePassword is advertised as supported.
	PasswordsHashed
)

// WithPasswords sets the password policy; the default is PasswordsRefused.
func WithPasswords(p PasswordPolicy) Option {
	return func(c *config) {
		switch p {
		case PasswordsIgnored, PasswordsRefused, PasswordsHashed:
			c.passwords = p
		default:
			c.fail("WithPasswords(%d): not a PasswordPolicy", p)
		}
	}
}

// CheckPassword reports whether password is the one hash was made from: hash is what the handler gave the
// Store as User.PasswordHash, which a host checks a sign-in against straight from its column (an empty hash,
// no password set, matches nothing).
func CheckPassword(hash, password string) bool {
	return hash != "" && bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) == nil
}

// passwordRefused is the answer to a password written under PasswordsRefused: mutability, as the attribute
// cannot be written here, naming the policy so that the identity provider's admin knows what to change.
func passwordRefused() *Error {
	return errorf(http.StatusBadRequest, Mutability, "password cannot be written: this service provider keeps "+
		"no passwords (password policy: refused); turn off password sync in the identity provider")
}

// hashPassword hashes pw with bcrypt once one of the hash slots is the tenant's (hashSlots).
func (h *handler) hashPassword(ctx context.Context, pw string) (string, error) {
	tenant, _ := Tenant(ctx) // authenticated: the context has it
	if err := h.hashSlots.acquire(ctx, tenant); err != nil {
		return "", err
	}
	defer h.hashSlots.release(tenant)
	hash := h.hash
	if hash == nil {
		hash = func(pw []byte) ([]byte, error) { return bcrypt.GenerateFromPassword(pw, passwordCost) }
	}
	b, err := hash([]byte(pw))
	if errors.Is(err, bcrypt.ErrPasswordTooLong) {
		return "", errorf(http.StatusBadRequest, InvalidValue, "password is longer than 72 bytes")
	}
	return string(b), err
}

// passwordCost is bcrypt's cost factor: about 50 ms of one core per hash on current machines, OWASP's floor.
const passwordCost = 10

// hashSlots bounds the password hashes computed at once (each costs tens of milliseconds of one core, so a
// burst of password writes waits here instead of taking every core from other requests) and shares the slots
// fairly between tenants: a freed slot goes to the waiting tenant that holds the fewest slots, and among those
// to the one served longest ago, each tenant's own requests in order. One tenant's flood of password writes
// thus delays another tenant's hash by at most the hashes running when it arrives, never by the flood's queue.
type hashSlots struct {
	mu      sync.Mutex
	free    int                    // slots nobody holds; nonzero only when nobody waits
	tenants map[string]*hashTenant // tenants holding or waiting for a slot, no others
	waiting []string               // the tenants with waiting requests (as many as tenants waiting at once)
	grants  uint64                 // slots granted so far: the clock of hashTenant.served
}

// hashTenant is one tenant's share of the slots.
type hashTenant struct {
	held   int
	served uint64 // when it was last granted a slot (hashSlots.grants)
	queue  []*hashWaiter
}

// hashWaiter is one request waiting for a slot; ready is closed when the slot is its.
type hashWaiter struct {
	ready   chan struct{}
	granted bool // under mu: the slot was handed over (ready is closed)
}

func newHashSlots(n int) *hashSlots {
	return &hashSlots{free: n, tenants: map[string]*hashTenant{}}
}

// tenant returns tenant's entry, creating it. Under mu.
func (s *hashSlots) tenant(name string) *hashTenant {
	t := s.tenants[name]
	if t == nil {
		t = &hashTenant{}
		s.tenants[name] = t
	}
	return t
}

// forget drops the entry of a tenant that neither holds nor waits for a slot. Under mu.
func (s *hashSlots) forget(name string, t *hashTenant) {
	if t.held == 0 && len(t.queue) == 0 {
		delete(s.tenants, name)
	}
}

// acquire waits for a slot for tenant, or for ctx to end. A slot acquired must be released.
func (s *hashSlots) acquire(ctx context.Context, tenant string) error {
	s.mu.Lock()
	t := s.tenant(tenant)
	if s.free > 0 {
		s.free--
		s.grants++
		t.held, t.served = t.held+1, s.grants
		s.mu.Unlock()
		return nil
	}
	w := &hashWaiter{ready: make(chan struct{})}
	if len(t.queue) == 0 {
		s.waiting = append(s.waiting, tenant)
	}
	t.queue = append(t.queue, w)
	s.mu.Unlock()
	select {
	case <-w.ready:
		return nil
	case <-ctx.Done():
	}
	s.mu.Lock()
	if w.granted { // handed over as the context ended: passed on
		s.mu.Unlock()
		s.release(tenant)
		return ctx.Err()
	}
	t.queue = slices.DeleteFunc(t.queue, func(x *hashWaiter) bool { return x == w })
	if len(t.queue) == 0 {
		s.waiting = slices.DeleteFunc(s.waiting, func(n string) bool { return n == tenant })
	}
	s.forget(tenant, t)
	s.mu.Unlock()
	return ctx.Err()
}

// release gives tenant's slot back: to the waiting tenant that holds the fewest, the one served longest ago
// among equals, or to the free slots when nobody waits.
func (s *hashSlots) release(tenant string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tenants[tenant]
	t.held--
	s.forget(tenant, t)
	if len(s.waiting) == 0 {
		s.free++
		return
	}
	next := 0
	for i, name := range s.waiting[1:] {
		c, b := s.tenants[name], s.tenants[s.waiting[next]]
		if c.held < b.held || c.held == b.held && c.served < b.served {
			next = i + 1
		}
	}
	name := s.waiting[next]
	n := s.tenants[name]
	w := n.queue[0]
	n.queue[0] = nil
	if n.queue = n.queue[1:]; len(n.queue) == 0 {
		s.waiting = slices.Delete(s.waiting, next, next+1)
	}
	s.grants++
	n.held, n.served = n.held+1, s.grants
	w.granted = true
	close(w.ready)
}

// withPassword returns rt with the core User schema's password attribute when a declaration left it out, so
// that the password policy, not the declaration, decides what a password sent does: refused by default, where
// an attribute outside the declaration would be dropped silently.
func withPassword(rt *schema.ResourceType) *schema.ResourceType {
	if rt.Core.Attr("password") != nil {
		return rt
	}
	a := userType.Core.Attr("password")
	if a == nil {
		return rt
	}
	c, core := *rt, *rt.Core
	core.Attributes = append(slices.Clip(core.Attributes), a)
	c.Core = &core
	return &c
}
