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

// CheckPassword reports whether password is the one u.PasswordHash was made from.
func CheckPassword(u *User, password string) bool {
	return u != nil && u.PasswordHash != "" &&
		bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(password)) == nil
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
// fairly between tenants: a freed slot goes to the waiting tenant that holds the fewest slots, tenants holding
// as many taking turns, each tenant's own requests in order. One tenant's flood of password writes thus delays
// another tenant's hash by at most the hash running when it arrives, never by the flood's queue.
type hashSlots struct {
	mu     sync.Mutex
	free   int                      // slots nobody holds; nonzero only when nobody waits
	held   map[string]int           // slots each tenant holds (tenants holding none are not kept)
	queues map[string][]*hashWaiter // each tenant's waiting requests, in order (tenants waiting for none are not kept)
	ring   []string                 // the tenants with waiting requests, in the order they take turns
}

// hashWaiter is one request waiting for a slot; ready is closed when the slot is its.
type hashWaiter struct {
	ready   chan struct{}
	granted bool // under mu: the slot was handed over (ready is closed)
}

func newHashSlots(n int) *hashSlots {
	return &hashSlots{free: n, held: map[string]int{}, queues: map[string][]*hashWaiter{}}
}

// acquire waits for a slot for tenant, or for ctx to end. A slot acquired must be released.
func (s *hashSlots) acquire(ctx context.Context, tenant string) error {
	s.mu.Lock()
	if s.free > 0 {
		s.free--
		s.held[tenant]++
		s.mu.Unlock()
		return nil
	}
	w := &hashWaiter{ready: make(chan struct{})}
	if len(s.queues[tenant]) == 0 {
		s.ring = append(s.ring, tenant)
	}
	s.queues[tenant] = append(s.queues[tenant], w)
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
	q := slices.DeleteFunc(s.queues[tenant], func(x *hashWaiter) bool { return x == w })
	if len(q) == 0 {
		delete(s.queues, tenant)
		s.ring = slices.DeleteFunc(s.ring, func(t string) bool { return t == tenant })
	} else {
		s.queues[tenant] = q
	}
	s.mu.Unlock()
	return ctx.Err()
}

// release gives tenant's slot back: to the waiting tenant that holds the fewest, the first in turn among
// equals, or to the free slots when nobody waits.
func (s *hashSlots) release(tenant string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.held[tenant]--; s.held[tenant] <= 0 {
		delete(s.held, tenant)
	}
	if len(s.ring) == 0 {
		s.free++
		return
	}
	next := 0 // the ring is as long as the tenants waiting at once: bounded by the requests in progress
	for i, t := range s.ring {
		if s.held[t] < s.held[s.ring[next]] {
			next = i
		}
	}
	t := s.ring[next]
	s.ring = slices.Delete(s.ring, next, next+1)
	q := s.queues[t]
	w := q[0]
	q[0] = nil
	if q = q[1:]; len(q) == 0 {
		delete(s.queues, t)
	} else {
		s.queues[t] = q
		s.ring = append(s.ring, t) // its next request waits for its next turn
	}
	s.held[t]++
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
