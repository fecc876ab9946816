package sqlstore

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/filter"
	"github.com/scimkit/scim/schema"
)

// Declared resource types (scim.WithResource) are kept as documents: one row of scim_resources per
// resource (its canonical document as JSON, version, times, creation order seq), and one row of
// scim_resource_keys per value of a keyed attribute, a single-valued string of the core schema or
// externalId, folded unless caseExact. Keys of the attributes declared unique carry uniq, which a partial
// unique index holds to one resource per value: that is how the database enforces uniqueness across
// replicas. An eq on a keyed attribute or id (alone, or a side of an "and") is an index lookup; every other
// filter and every sort reads the tenant's resources of the type in seq order and evaluates in Go, after a
// capped count of them has checked Query.MaxScan.

// resourceBatch is how many rows a scan of a tenant's resources reads per statement.
const resourceBatch = 500

// Resources is a scim.ResourceStore and scim.ResourceCursorLister of one declared type over the Store's
// database. Make one with Store.Resources.
type Resources struct {
	s     *Store
	rt    *schema.ResourceType
	keyed []*schema.Attribute // the attributes whose values scim_resource_keys holds
}

var (
	_ scim.ResourceStore        = (*Resources)(nil)
	_ scim.ResourceCursorLister = (*Resources)(nil)
)

// Resources returns the store of rt's resources (schema.Declare's), kept in the tables scim_resources and
// scim_resource_keys under rt.Name: give it to scim.WithResource. Renaming a type orphans its rows.
func (s *Store) Resources(rt *schema.ResourceType) *Resources {
	r := &Resources{s: s, rt: rt}
	for _, a := range rt.Core.Attributes {
		if a.Type == schema.String && !a.MultiValued {
			r.keyed = append(r.keyed, a)
		}
	}
	for _, a := range rt.Common {
		if strings.EqualFold(a.Name, "externalId") {
			r.keyed = append(r.keyed, a)
		}
	}
	return r
}

// resourceKey is one row of scim_resource_keys.
type resourceKey struct {
	attr, fold string
	uniq       bool
}

// keyOf is the key of a keyed attribute's value: folded unless the attribute is caseExact, and a key longer
// than maxKey replaced by "sha256:" and its hash, which an index can hold: eq, the only comparison keys
// answer, and uniqueness compare hashes as they compare values. A value that itself starts with the prefix
// is hashed too, so that no value kept as it is can equal another's hash.
func keyOf(a *schema.Attribute, s string) string {
	if !a.CaseExact {
		s = filter.Fold(s)
	}
	if len(s) > maxKey || strings.HasPrefix(s, hashedKey) {
		sum := sha256.Sum256([]byte(s))
		return hashedKey + hex.EncodeToString(sum[:])
	}
	return s
}

const hashedKey = "sha256:"

// maxKey is the longest key kept as it is: far below PostgreSQL's btree entry limit.
const maxKey = 256

func (r *Resources) keys(d *scim.Document) []resourceKey {
	var out []resourceKey
	for _, a := range r.keyed {
		if s, ok := d.Attributes[a.Name].(string); ok && s != "" {
			out = append(out, resourceKey{attr: a.Name, fold: keyOf(a, s), uniq: a.Uniqueness != schema.UniqueNone})
		}
	}
	return out
}

// begin checks the context's tenant and admits the call to the store's pool (enter).
func (r *Resources) begin(ctx context.Context, write bool) (context.Context, turn, error) {
	if _, err := scim.Tenant(ctx); err != nil {
		return ctx, turn{}, err
	}
	if err := ctx.Err(); err != nil {
		return ctx, turn{}, err
	}
	return r.s.enter(ctx, write)
}

// Create implements scim.ResourceStore.
func (r *Resources) Create(ctx context.Context, d *scim.Document) (_ *scim.Document, err error) {
	defer r.s.classify(ctx, &err)
	ctx, done, err := r.begin(ctx, true)
	if err != nil {
		return nil, err
	}
	defer done.leave()
	data, err := json.Marshal(d.Attributes)
	if err != nil {
		return nil, err
	}
	err = r.s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, r.s.q(`INSERT INTO scim_resources (tenant, type, id, version, created, last_modified, doc)
			VALUES (?, ?, ?, 1, ?, ?, ?)`), tenantOf(ctx), r.rt.Name, d.ID,
			d.Meta.Created.UTC().Format(timeFormat), d.Meta.LastModified.UTC().Format(timeFormat), string(data))
		if err != nil {
			return mapErr(err)
		}
		return r.insertKeys(ctx, tx, d)
	})
	if err != nil {
		return nil, err
	}
	d.Meta.Version = "1"
	return d, nil
}

// insertKeys writes d's keys; a unique key another resource holds fails it with scim.ErrConflict.
func (r *Resources) insertKeys(ctx context.Context, tx *sql.Tx, d *scim.Document) error {
	keys := r.keys(d)
	if len(keys) == 0 {
		return nil
	}
	var b strings.Builder
	b.WriteString(`INSERT INTO scim_resource_keys (tenant, type, attr, fold, id, uniq) VALUES `)
	args := make([]any, 0, 6*len(keys))
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(?, ?, ?, ?, ?, ?)")
		args = append(args, tenantOf(ctx), r.rt.Name, k.attr, k.fold, d.ID, k.uniq)
	}
	if _, err := tx.ExecContext(ctx, r.s.q(b.String()), args...); err != nil {
		return mapErr(err)
	}
	return nil
}

// Get implements scim.ResourceStore.
func (r *Resources) Get(ctx context.Context, id string) (_ *scim.Document, err error) {
	defer r.s.classify(ctx, &err)
	ctx, done, err := r.begin(ctx, false)
	if err != nil {
		return nil, err
	}
	defer done.leave()
	rows, err := r.read(ctx, r.s.db, selectDocs+`tenant = ? AND type = ? AND id = ?`, tenantOf(ctx), r.rt.Name, id)
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, scim.ErrNotFound
	}
	return rows[0].doc, nil
}

// Replace implements scim.ResourceStore. Meta.Created stays the stored one.
func (r *Resources) Replace(ctx context.Context, d *scim.Document, version string) (_ *scim.Document, err error) {
	defer r.s.classify(ctx, &err)
	ctx, done, err := r.begin(ctx, true)
	if err != nil {
		return nil, err
	}
	defer done.leave()
	data, err := json.Marshal(d.Attributes)
	if err != nil {
		return nil, err
	}
	query, args := ifVersion(`UPDATE scim_resources SET doc = ?, last_modified = ?, version = version + 1
		WHERE tenant = ? AND type = ? AND id = ?`,
		[]any{string(data), d.Meta.LastModified.UTC().Format(timeFormat), tenantOf(ctx), r.rt.Name, d.ID}, version)
	var newVersion int64
	var created string
	err = r.s.tx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, r.s.q(query+` RETURNING version, created`), args...).Scan(&newVersion, &created)
		if errors.Is(err, sql.ErrNoRows) {
			return r.missOrStale(ctx, tx, d.ID)
		}
		if err != nil {
			return err
		}
		if err := r.deleteKeys(ctx, tx, d.ID); err != nil {
			return err
		}
		return r.insertKeys(ctx, tx, d)
	})
	if err != nil {
		return nil, err
	}
	if d.Meta.Created, err = time.Parse(timeFormat, created); err != nil {
		return nil, err
	}
	d.Meta.Version = strconv.FormatInt(newVersion, 10)
	return d, nil
}

func (r *Resources) deleteKeys(ctx context.Context, tx *sql.Tx, id string) error {
	_, err := tx.ExecContext(ctx, r.s.q(`DELETE FROM scim_resource_keys WHERE tenant = ? AND type = ? AND id = ?`),
		tenantOf(ctx), r.rt.Name, id)
	return err
}

// missOrStale tells why a conditional write touched no row: the resource is gone, or its version moved on.
func (r *Resources) missOrStale(ctx context.Context, tx *sql.Tx, id string) error {
	var one int
	err := tx.QueryRowContext(ctx, r.s.q(`SELECT 1 FROM scim_resources WHERE tenant = ? AND type = ? AND id = ?`),
		tenantOf(ctx), r.rt.Name, id).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return scim.ErrNotFound
	case err != nil:
		return err
	}
	return scim.ErrVersionMismatch
}

// Delete implements scim.ResourceStore.
func (r *Resources) Delete(ctx context.Context, id, version string) (err error) {
	defer r.s.classify(ctx, &err)
	ctx, done, err := r.begin(ctx, true)
	if err != nil {
		return err
	}
	defer done.leave()
	query, args := ifVersion(`DELETE FROM scim_resources WHERE tenant = ? AND type = ? AND id = ?`,
		[]any{tenantOf(ctx), r.rt.Name, id}, version)
	return r.s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, r.s.q(query), args...)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return r.missOrStale(ctx, tx, id)
		}
		return r.deleteKeys(ctx, tx, id)
	})
}

// docRow is a resource read, with its creation order.
type docRow struct {
	seq int64
	doc *scim.Document
}

// The statements of reads, in '?' form (Store.q), each a range of an index (TestResourcePlans): selectDocs
// is followed by a condition on the id (scim_resources_id); byKey finds the resources holding a key (the
// key's index, then scim_resources_id); scanStmt is one batch of a scan after a seq, and
// cappedCount counts a tenant's resources of a type up to a bound (scim_resources_tenant_seq).
const (
	docColumns = `r.seq, r.id, r.version, r.created, r.last_modified, r.doc`
	selectDocs = `SELECT ` + docColumns + ` FROM scim_resources r WHERE `
	// keyIDs finds the ids holding a key; their resources are then read by id (byIDs), two index searches:
	// as one join, both planners, before statistics, may walk the tenant's resources and probe their keys.
	keyIDs    = `SELECT id FROM scim_resource_keys WHERE tenant = ? AND type = ? AND attr = ? AND fold = ?`
	scanBatch = ` WHERE tenant = ? AND type = ? AND seq > ? ORDER BY seq LIMIT ?`
)

// scanStmt is the statement of one batch of a scan after a seq.
func (r *Resources) scanStmt() string {
	from := `SELECT ` + docColumns + ` FROM scim_resources r`
	if r.s.dialect == SQLite {
		from += ` INDEXED BY scim_resources_tenant_seq`
	}
	return from + scanBatch
}

func cappedCount(limit int) string {
	return `SELECT count(*) FROM (SELECT 1 FROM scim_resources WHERE tenant = ? AND type = ? LIMIT ` +
		strconv.Itoa(limit) + `) capped`
}

// read returns the resources a statement selects (its columns docColumns).
func (r *Resources) read(ctx context.Context, db reader, stmt string, args ...any) ([]docRow, error) {
	rows, err := db.QueryContext(ctx, r.s.q(stmt), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []docRow
	for rows.Next() {
		var dr docRow
		var version int64
		var created, modified, data string
		d := &scim.Document{}
		if err := rows.Scan(&dr.seq, &d.ID, &version, &created, &modified, &data); err != nil {
			return nil, err
		}
		dec := json.NewDecoder(bytes.NewReader([]byte(data)))
		dec.UseNumber() // the canonical document's numbers are json.Number
		if err := dec.Decode(&d.Attributes); err != nil {
			return nil, fmt.Errorf("sqlstore: decoding a stored %s: %w", r.rt.Name, err)
		}
		if d.Meta.Created, err = time.Parse(timeFormat, created); err != nil {
			return nil, err
		}
		if d.Meta.LastModified, err = time.Parse(timeFormat, modified); err != nil {
			return nil, err
		}
		d.Meta.Version = strconv.FormatInt(version, 10)
		dr.doc = d
		out = append(out, dr)
	}
	return out, rows.Err()
}

// lookup finds in e an eq of a string on id or a keyed attribute, alone or a side of an "and": the matches
// of e are among the resources with that value, which an index finds. It returns the key (attr "id" for
// an id).
func (r *Resources) lookup(e filter.Expr) (attr, key string, ok bool) {
	switch e := e.(type) {
	case *filter.Logical:
		if e.Op != filter.And {
			return "", "", false
		}
		if attr, key, ok = r.lookup(e.Left); ok {
			return attr, key, ok
		}
		return r.lookup(e.Right)
	case *filter.Compare:
		v, isString := e.Value.(string)
		if !isString || e.Op != filter.Eq || e.Path.Attr == nil || e.Path.Sub != nil || e.Path.Extension() {
			return "", "", false
		}
		if strings.EqualFold(e.Path.Attr.Name, "id") {
			return "id", v, true
		}
		for _, a := range r.keyed {
			if strings.EqualFold(a.Name, e.Path.Attr.Name) {
				return a.Name, keyOf(a, v), true
			}
		}
	}
	return "", "", false
}

// byIDs reads the resources with the ids, in seq order, a batch of ids per statement.
func (r *Resources) byIDs(ctx context.Context, db reader, ids []string) ([]docRow, error) {
	var out []docRow
	for len(ids) > 0 {
		n := min(len(ids), resourceBatch)
		args := withIDs(ids[:n], tenantOf(ctx), r.rt.Name)
		rows, err := r.read(ctx, db, selectDocs+`tenant = ? AND type = ? AND id IN (`+
			strings.TrimSuffix(strings.Repeat("?, ", n), ", ")+`)`, args...)
		if err != nil {
			return nil, err
		}
		out = append(out, rows...)
		ids = ids[n:]
	}
	slices.SortFunc(out, func(a, b docRow) int { return cmp.Compare(a.seq, b.seq) })
	return out, nil
}

// matches returns the resources matching q's filter, in seq order: through an index when lookup finds one,
// else by reading the tenant's resources of the type in batches, once a capped count has shown there are no
// more than q.MaxScan (scim.ErrTooMany otherwise).
func (r *Resources) matches(ctx context.Context, db reader, q scim.Query) ([]docRow, error) {
	tenant := []any{tenantOf(ctx), r.rt.Name}
	var rows []docRow
	if attr, key, ok := r.lookup(q.Filter); ok {
		ids := []string{key}
		if attr != "id" {
			var err error
			if ids, err = collectIDs(ctx, db, r.s.q(keyIDs), tenantOf(ctx), r.rt.Name, attr, key); err != nil {
				return nil, err
			}
		}
		var err error
		if rows, err = r.byIDs(ctx, db, ids); err != nil {
			return nil, err
		}
	} else {
		if q.MaxScan > 0 {
			var n int
			err := db.QueryRowContext(ctx, r.s.q(cappedCount(q.MaxScan+1)), tenant...).Scan(&n)
			if err != nil {
				return nil, err
			}
			if n > q.MaxScan {
				return nil, scim.ErrTooMany
			}
		}
		for after := int64(-1); ; {
			batch, err := r.read(ctx, db, r.scanStmt(), append(tenant, after, resourceBatch)...)
			if err != nil {
				return nil, err
			}
			rows = append(rows, batch...)
			if len(batch) < resourceBatch {
				break
			}
			after = batch[len(batch)-1].seq
		}
	}
	out := rows[:0]
	for _, dr := range rows {
		if q.MatchesDocument(dr.doc) {
			out = append(out, dr)
		}
	}
	return out, ctx.Err()
}

// List implements scim.ResourceStore. Without filter and sort, it pages in SQL by seq.
func (r *Resources) List(ctx context.Context, q scim.Query) (_ *scim.DocumentPage, err error) {
	defer r.s.classify(ctx, &err)
	ctx, done, err := r.begin(ctx, false)
	if err != nil {
		return nil, err
	}
	defer done.leave()
	var page *scim.DocumentPage
	pinned := r.pinned(ctx, q)
	err = r.s.bounded(ctx, pinned, func(db reader) error {
		if q.Filter == nil && q.SortBy.Attr == nil {
			page, err = r.seqPage(ctx, db, q)
			return err
		}
		rows, err := r.matches(ctx, db, q)
		if err != nil {
			return err
		}
		if q.SortBy.Attr != nil && q.MaxScan > 0 && len(rows) > q.MaxScan {
			return scim.ErrTooMany // the sort examines every match
		}
		docs := make([]*scim.Document, len(rows))
		for i, dr := range rows {
			docs[i] = dr.doc
		}
		page = scim.ApplyDocuments(docs, q)
		return nil
	})
	return page, err
}

// pinned reports whether q is answered by an index lookup and needs no sort: a few rows, read without the
// statement-bounding transaction (Store.bounded).
func (r *Resources) pinned(ctx context.Context, q scim.Query) bool {
	_, _, ok := r.lookup(q.Filter)
	return ok && q.SortBy.Attr == nil
}

// collectIDs returns the first column of a statement's rows, one string each (ids, in every table).
func collectIDs(ctx context.Context, db reader, query string, args ...any) ([]string, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// seqPage is the unfiltered, unsorted page: rows of the (tenant, type, seq) index, and their count.
func (r *Resources) seqPage(ctx context.Context, db reader, q scim.Query) (*scim.DocumentPage, error) {
	page := &scim.DocumentPage{Documents: []*scim.Document{}}
	if err := db.QueryRowContext(ctx, r.s.q(`SELECT count(*) FROM scim_resources WHERE tenant = ? AND type = ?`),
		tenantOf(ctx), r.rt.Name).Scan(&page.TotalResults); err != nil {
		return nil, err
	}
	if q.Count <= 0 {
		return page, nil
	}
	rows, err := r.read(ctx, db, selectDocs+`tenant = ? AND type = ? ORDER BY seq LIMIT ? OFFSET ?`,
		tenantOf(ctx), r.rt.Name, q.Count, max(q.StartIndex, 1)-1)
	if err != nil {
		return nil, err
	}
	for _, dr := range rows {
		page.Documents = append(page.Documents, dr.doc)
	}
	return page, nil
}

// ListCursor implements scim.ResourceCursorLister: pages in seq order, each cursor sealed to the tenant and
// the type.
func (r *Resources) ListCursor(ctx context.Context, q scim.Query, cursor string) (_ *scim.DocumentPage, err error) {
	defer r.s.classify(ctx, &err)
	ctx, done, err := r.begin(ctx, false)
	if err != nil {
		return nil, err
	}
	defer done.leave()
	seal := tenantOf(ctx) + "\x00" + r.rt.Name
	after := int64(-1)
	if cursor != "" {
		if after, err = r.s.cursors.Open(seal, cursor); err != nil {
			return nil, err
		}
	}
	page := &scim.DocumentPage{Documents: []*scim.Document{}}
	pinned := r.pinned(ctx, q)
	err = r.s.bounded(ctx, pinned, func(db reader) error {
		var rows []docRow
		if q.Filter == nil { // the page's rows and the count, both from the (tenant, type, seq) index
			if err := db.QueryRowContext(ctx, r.s.q(`SELECT count(*) FROM scim_resources WHERE tenant = ? AND type = ?`),
				tenantOf(ctx), r.rt.Name).Scan(&page.TotalResults); err != nil {
				return err
			}
			rows, err = r.read(ctx, db, r.scanStmt(), tenantOf(ctx), r.rt.Name, after, q.Count+1)
		} else {
			rows, err = r.matches(ctx, db, q)
			page.TotalResults = len(rows)
		}
		if err != nil {
			return err
		}
		last := after
		for _, dr := range rows {
			if dr.seq <= after {
				continue
			}
			if len(page.Documents) == q.Count { // another match follows the page
				if len(page.Documents) > 0 {
					page.NextCursor = r.s.cursors.Seal(seal, last)
				}
				break
			}
			page.Documents = append(page.Documents, dr.doc)
			last = dr.seq
		}
		return nil
	})
	return page, err
}
