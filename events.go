package scim

import (
	"context"
	"reflect"
	"time"

	"github.com/scimkit/scim/internal/document"
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
	// Resource is "User" for the events above and "Group" for the group events (GroupCreated, …), whose
	// UserID, Before and After are empty: a hook switches on Type.
	Resource string
	// GroupID is the group's id, for group events.
	GroupID string
	// Document is a declared resource type's resource (WithResource) after the change (before it, for a
	// deletion), for the events ResourceCreated, ResourceUpdated and ResourceDeleted, whose Resource names
	// that type. Shared, read-only.
	Document *Document
	// Group is the group after the change (before it, for GroupDeleted), without members; shared, read-only.
	Group *Group
	// Added and Removed list the user ids that a GroupCreated, GroupMembersAdded or GroupMembersRemoved
	// event made or unmade members.
	Added, Removed []string
	// Version is the user's meta.version after the change (before it, for UserDeleted): the ETag's
	// version. Versions are opaque, so a hook compares them for equality only: an event whose Version is
	// not the one the Store now holds for the user describes a change that a later one superseded.
	Version string
}

// WithEvents calls fn for every committed change: a user created, updated, deactivated, reactivated or
// deleted, through any route.
//
// Delivery is asynchronous: a write queues its event as it commits, and a fixed set of workers (sized with
// Limits.Events) calls fn, so a slow fn never delays a response or the next request on its connection.
// Each user's events (same tenant and id) are delivered one at a time, in the order the Store committed
// them within this process; different users' events run in parallel. fn's context carries the request's
// values and tenant (Tenant), not its cancellation, and ends after EventQueue.Timeout (30 s by
// default) or when Shutdown runs out of time. A panic in fn is recovered and logged; nothing fn does can
// fail the client's request or touch the data. The queue is bounded: an event that finds it full for
// EventQueue.Wait is dropped, logged and counted (Handler.EventStats), and Handler.Shutdown delivers what
// is queued before a host exits. The guarantee is at most once: a process that dies between the commit and
// fn loses the event. Hosts that need at least once record changes in the same transaction as the write (a
// transactional outbox in their Store).
func WithEvents(fn func(ctx context.Context, e Event)) Option {
	return func(c *config) {
		if c.notNil("WithEvents", fn != nil) {
			c.events = fn
		}
	}
}

// changeEvent builds the event of a write from the user before (nil: created) and after (nil: deleted).
func (h *handler) changeEvent(r *request, before, after *User) Event {
	e := Event{Tenant: r.tenant, Time: h.now(), Before: blankPassword(before), After: blankPassword(after),
		Resource: "User", RequestID: r.requestID}
	switch {
	case before == nil:
		e.Type, e.UserID, e.Version = UserCreated, after.ID, after.Meta.Version
	case after == nil:
		e.Type, e.UserID, e.Version = UserDeleted, before.ID, before.Meta.Version
	default:
		e.Type, e.UserID, e.Version = UserUpdated, after.ID, after.Meta.Version
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
		if !reflect.DeepEqual(document.Get(b, p), document.Get(a, p)) {
			out = append(out, p.String())
		}
	}
	if before.PasswordHash != after.PasswordHash { // not in the JSON form: compared on its own
		out = append(out, "password")
	}
	return out
}

// emit queues the event of a write the Store has just committed. The caller holds the user's lock
// (lockUser) from before the write, so that the user's events are queued in commit order.
func (h *handler) emit(r *request, before, after *User) {
	if h.queue == nil {
		return
	}
	e := h.changeEvent(r, before, after)
	// The hook's context: the request's values without its cancellation or the request state, which the
	// handler goes on writing; the tenant as a plain value in its place.
	ctx := ContextWithTenant(context.WithoutCancel(r.Context()), e.Tenant)
	h.enqueue(ctx, e)
}
