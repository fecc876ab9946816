package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/scimkit/scim"
)

// OutboxEntry is a change recorded by a Store opened WithOutbox, in the transaction of the write.
type OutboxEntry struct {
	// ID orders the entries and names one to AckOutbox.
	ID     int64
	Type   scim.EventType
	Tenant string
	UserID string
	Time   time.Time
	// User is the user after the change; for UserDeleted, as it was when deleted. Its password is blanked.
	// Nil for the group types (GroupCreated and the others).
	User *scim.User
	// GroupID and Group are set for the group types instead of UserID and User: the group after the change
	// (for GroupDeleted, as it was), without members.
	GroupID string
	Group   *scim.Group
	// Added and Removed are the memberships a group write actually changed: user ids.
	Added, Removed []string
}

// groupEntry is the data column of a group's outbox entry.
type groupEntry struct {
	Group   json.RawMessage `json:"group"`
	Added   []string        `json:"added,omitempty"`
	Removed []string        `json:"removed,omitempty"`
}

// recordGroup adds the outbox entry of a group write, when the outbox is on; the user_id column holds the
// group's id (the type tells them apart).
func (s *Store) recordGroup(ctx context.Context, db querier, typ scim.EventType, id string, version int64, data string, added, removed []string) error {
	if !s.outbox {
		return nil
	}
	b, err := json.Marshal(groupEntry{Group: json.RawMessage(data), Added: added, Removed: removed})
	if err != nil {
		return err
	}
	return s.record(ctx, db, typ, id, version, string(b))
}

// record adds the outbox entry of a write, when the outbox is on.
func (s *Store) record(ctx context.Context, db querier, typ scim.EventType, id string, version int64, data string) error {
	if !s.outbox {
		return nil
	}
	_, err := db.ExecContext(ctx, s.q(`INSERT INTO scim_outbox (tenant, user_id, type, version, data, created)
		VALUES (?, ?, ?, ?, ?, ?)`), tenantOf(ctx), id, string(typ), version, data, now())
	return err
}

// ReadOutbox returns up to limit of the oldest entries not yet acknowledged, of every tenant. A consumer
// handles them (idempotently: an entry may be read again until acknowledged), then calls AckOutbox.
func (s *Store) ReadOutbox(ctx context.Context, limit int) (_ []OutboxEntry, err error) {
	defer s.classify(ctx, &err)
	ctx, done, err := s.enterAs(ctx, false, outboxLane)
	if err != nil {
		return nil, err
	}
	defer done.leave()
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT id, tenant, user_id, type, version, data, created
		FROM scim_outbox ORDER BY id LIMIT ?`), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []OutboxEntry
	for rows.Next() {
		var e OutboxEntry
		var typ, data, created string
		var version int64
		if err := rows.Scan(&e.ID, &e.Tenant, &e.UserID, &typ, &version, &data, &created); err != nil {
			return nil, err
		}
		e.Type = scim.EventType(typ)
		if e.Time, err = time.Parse(timeFormat, created); err != nil {
			return nil, err
		}
		if strings.HasPrefix(typ, "group.") {
			var ge groupEntry
			if err := json.Unmarshal([]byte(data), &ge); err != nil {
				return nil, fmt.Errorf("sqlstore: decoding an outbox entry: %w", err)
			}
			if e.Group, err = decodeGroup(string(ge.Group), version); err != nil {
				return nil, err
			}
			e.GroupID, e.UserID, e.Added, e.Removed = e.UserID, "", ge.Added, ge.Removed
			out = append(out, e)
			continue
		}
		if e.User, err = decodeUser(data, version); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// AckOutbox removes handled entries.
func (s *Store) AckOutbox(ctx context.Context, ids ...int64) (err error) {
	defer s.classify(ctx, &err)
	if len(ids) == 0 {
		return nil
	}
	ctx, done, err := s.enterAs(ctx, true, outboxLane)
	if err != nil {
		return err
	}
	defer done.leave()
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	_, err = s.wdb.ExecContext(ctx, s.q(`DELETE FROM scim_outbox WHERE id IN (?`+strings.Repeat(", ?", len(ids)-1)+`)`), args...)
	return err
}
