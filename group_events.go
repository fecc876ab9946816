package scim

import (
	"context"
	"errors"
)

// The event types of groups (Event.Resource "Group"). One write may report several: a PATCH that renames
// a group and changes its members reports GroupUpdated, then GroupMembersAdded, then GroupMembersRemoved,
// all with the version the write made. A group's events are delivered in commit order, as a user's are.
const (
	GroupCreated        EventType = "group.created"
	GroupUpdated        EventType = "group.updated" // displayName or externalId changed (Changed names them)
	GroupDeleted        EventType = "group.deleted" // its memberships ended with it
	GroupMembersAdded   EventType = "group.membersAdded"
	GroupMembersRemoved EventType = "group.membersRemoved"
)

// key names the resource an event is about, for the per-resource order of delivery: a user's id, or a
// group's id in a namespace of its own (a host's ids may be small integers for both).
func (e *Event) key() string {
	if e.Resource == "Group" {
		return groupKey(e.GroupID)
	}
	if e.Document != nil {
		return e.Resource + "\x00" + e.Document.ID // docKey's form
	}
	return e.UserID
}

// groupKey is the lock and lane key of a group (lockedWrite): never equal to a user's id.
func groupKey(id string) string { return "Group\x00" + id }

// emitGroup queues the events of a group write the GroupStore has just committed (the caller holds the
// group's lock: lockedWrite with groupKey). g is the group after the write (before it, for GroupDeleted).
func (h *handler) emitGroup(r *request, typ EventType, g *Group, changed, added, removed []string) {
	if h.queue == nil || g == nil {
		return
	}
	base := Event{Tenant: r.tenant, Time: h.now(), Resource: "Group", GroupID: g.ID, Group: g,
		Version: g.Meta.Version, RequestID: r.requestID}
	ctx := ContextWithTenant(context.WithoutCancel(r.Context()), base.Tenant)
	send := func(t EventType, edit func(*Event)) {
		e := base
		e.Type = t
		edit(&e)
		h.enqueue(ctx, e)
	}
	switch typ {
	case GroupCreated:
		send(GroupCreated, func(e *Event) { e.Added = added })
	case GroupDeleted:
		send(GroupDeleted, func(*Event) {})
	default:
		if len(changed) > 0 {
			send(GroupUpdated, func(e *Event) { e.Changed = changed })
		}
		if len(added) > 0 {
			send(GroupMembersAdded, func(e *Event) { e.Added = added })
		}
		if len(removed) > 0 {
			send(GroupMembersRemoved, func(e *Event) { e.Removed = removed })
		}
	}
}

// groupsLeft returns the groups a user's deletion is about to take it out of, when events are on and the
// Store keeps groups (nil otherwise: nothing to report, no call made).
func (h *handler) groupsLeft(r *request, userID string) ([]GroupRef, error) {
	gs, ok := h.groupStore()
	if h.queue == nil || !ok {
		return nil, nil
	}
	of, err := gs.GroupsOf(r.Context(), []string{userID})
	if err != nil {
		return nil, err
	}
	return of[userID], nil
}

// emitLeft reports, once the user's deletion has committed, that each group it was in lost it: a
// GroupMembersRemoved naming the user, with the group as it is now (the GroupStore moved its version when
// it removed the membership). Each group's event is queued under that group's lock, as its writes are; the
// user's lock is released first, so that no request holds two (a user's and a group's may share a
// stripe). A group deleted meanwhile reports nothing more (its GroupDeleted ended every membership); one
// that cannot be read is reported from what GroupsOf said of it, without a version, and logged. Memberships
// another request adds while the user is being deleted end without an event.
func (h *handler) emitLeft(r *request, userID string, left []GroupRef) {
	gs, ok := h.groupStore()
	if !ok {
		return
	}
	ctx := context.WithoutCancel(r.Context()) // the deletion committed: report it even if the client went away
	for _, ref := range left {
		func() {
			unlock, err := h.queue.Lock(ctx, r.tenant, groupKey(ref.Value))
			if err != nil { // only a cancelled context fails it, and this one is not
				return
			}
			defer unlock() // deferred: a panicking GroupStore must not keep the stripe
			g, err := gs.GetGroup(ctx, ref.Value, GroupRead{})
			switch {
			case errors.Is(err, ErrNotFound):
				return
			case err != nil:
				h.log.Warn("scim: the group a deleted user left could not be read for its event",
					"group", ref.Value, "tenant", r.tenant, "request_id", r.requestID, "error", err)
				g = &Group{ID: ref.Value, DisplayName: ref.Display}
			}
			h.emitGroup(r, GroupMembersRemoved, g, nil, nil, []string{userID})
		}()
	}
}
