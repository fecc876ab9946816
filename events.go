package scim

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"runtime/debug"
	"time"

	"github.com/scimkit/scim/schema"
)

// EventType names what a committed change did to a user.
type EventType string

// The event types. A write that changes active reports Deactivated or Reactivated (with every other
// attribute it changed in Changed); any other change is Updated.
const (
	UserCreated     EventType = "created"
	UserUpdated     EventType = "updated"
	UserDeactivated EventType = "deactivated"
	UserReactivated EventType = "reactivated"
	UserDeleted     EventType = "deleted"
)

// Event is a change to a user that the Store has committed.
type Event struct {
	Type   EventType
	Tenant string
	UserID string
	Time   time.Time
	// Before is the user as it was (nil for UserCreated); After as it is now (nil for UserDeleted). Both are
	// shared with the Store: read them, never modify them. Their passwords are blanked.
	Before, After *User
	// Changed lists the attributes a write changed, as canonical paths ("displayName",
	// "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber"); nil for created and
	// deleted users. A password change appears as "password", never its value.
	Changed []string
	// RequestID is the request's id, as in its log line and X-Request-Id header.
	RequestID string
}

// WithEvents calls fn for every committed change: a user created, updated, deactivated, reactivated or
// deleted, through any route.
//
// Delivery: fn runs after the Store committed and after the response was sent (and flushed), on the
// request's goroutine, once per change, in the order of each user's changes. Its context carries the tenant
// and no cancellation, and ends after 30 seconds. A panic in fn is recovered and logged; nothing fn does can
// fail the client's request or touch the data. The guarantee is at most once: a process that dies between
// the commit and fn loses the event. Hosts that need at least once record changes in the same transaction
// as the write (a transactional outbox in their Store).
func WithEvents(fn func(ctx context.Context, e Event)) Option {
	return func(c *config) { c.events = fn }
}

// changeEvent builds the event of a write from the user before (nil: created) and after (nil: deleted).
func (h *handler) changeEvent(r *http.Request, before, after *User) Event {
	e := Event{Tenant: TenantFromContext(r.Context()), Time: now(), Before: blankPassword(before), After: blankPassword(after)}
	st := stateOf(r)
	if st != nil {
		e.RequestID = st.requestID
	}
	switch {
	case before == nil:
		e.Type, e.UserID = UserCreated, after.ID
	case after == nil:
		e.Type, e.UserID = UserDeleted, before.ID
	default:
		e.Type, e.UserID = UserUpdated, after.ID
		e.Changed = changedPaths(h.rt, before, after)
		if was, is := before.IsActive(), after.IsActive(); was != is {
			e.Type = UserReactivated
			if !is {
				e.Type = UserDeactivated
			}
		}
	}
	return e
}

// blankPassword returns u, or a copy without its password hash: events never carry one.
func blankPassword(u *User) *User {
	if u == nil || u.PasswordHash == "" {
		return u
	}
	c := *u
	c.PasswordHash = ""
	return &c
}

// changedPaths lists the top-level attributes whose values differ between two users, from the schema table.
func changedPaths(rt *schema.ResourceType, before, after *User) []string {
	b, a := before.doc(), after.doc()
	var out []string
	for _, p := range rt.Attributes() {
		if p.Attr.Name == "meta" || p.Attr.Name == "id" {
			continue
		}
		if !reflect.DeepEqual(schema.Get(b, p), schema.Get(a, p)) {
			out = append(out, p.String())
		}
	}
	if before.PasswordHash != after.PasswordHash { // not in the JSON form: compared on its own
		out = append(out, "password")
	}
	return out
}

// emit queues an event of the request for delivery once the response is out.
func (h *handler) emit(r *http.Request, before, after *User) {
	if h.events == nil {
		return
	}
	if st := stateOf(r); st != nil {
		st.events = append(st.events, h.changeEvent(r, before, after))
	}
}

// deliver runs the event hook for the request's events, bounded and isolated from the request.
func (h *handler) deliver(r *http.Request, events []Event) {
	if len(events) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 30*time.Second)
	defer cancel()
	for _, e := range events {
		func() {
			defer func() {
				if v := recover(); v != nil {
					h.log.ErrorContext(ctx, "scim: event hook panicked", "event", string(e.Type), "request_id", e.RequestID,
						"panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				}
			}()
			h.events(ctx, e)
		}()
	}
}
