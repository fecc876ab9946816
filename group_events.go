package scim

import (
	"context"
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
	base := Event{Tenant: r.tenant, Time: now(), Resource: "Group", GroupID: g.ID, Group: g,
		Version: g.Meta.Version, RequestID: r.requestID}
	ctx := ContextWithTenant(context.WithoutCancel(r.Context()), base.Tenant)
	send := func(t EventType, edit func(*Event)) {
		e := base
		e.Type = t
		edit(&e)
		h.queue.enqueue(ctx, e)
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
