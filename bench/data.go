package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/filter"
	"github.com/scimkit/scim/memstore"
	"github.com/scimkit/scim/schema"
	"github.com/scimkit/scim/shared/stored"
	"github.com/scimkit/scim/sqlstore"
)

// The data every server holds: user i is what Entra's Create flow (ENTRA.md) would have made of one person
// of a gallery app's mapping: userName, externalId, active, displayName, a work email, name.

// seedEpoch is when seeded users were "created"; user i one second after user i-1.
var seedEpoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func userID(i int) string   { return "00000000-0000-4000-8000-" + pad(strconv.Itoa(i), 12) }
func userName(i int) string { return "user" + pad(strconv.Itoa(i), 7) + "@contoso.com" }
func externalID(i int) string {
	x := strconv.FormatInt(int64(i), 16)
	return pad(x, 8) + "-8d2a-4f8e-bf98-" + pad(x, 12)
}
func givenName(i int) string     { return "Given" + strconv.Itoa(i) }
func familyName(i int) string    { return "Family" + strconv.Itoa(i) }
func displayName(i int) string   { return "Given" + strconv.Itoa(i) + " Family" + strconv.Itoa(i) }
func newUserName(k int64) string { return "new" + pad(strconv.FormatInt(k, 10), 9) + "@contoso.com" }

// pad left-pads s with zeros to width.
func pad(s string, width int) string {
	if len(s) >= width {
		return s
	}
	return strings.Repeat("0", width-len(s)) + s
}

func missUserName(k int) string {
	// What Test Connection and the create flow look up: a name nobody has.
	return fmt.Sprintf("%08x-0a21-4f8e-bf98-%012x@contoso.com", k, k)
}

// entraUser is user i as a Store holds it after Entra's POST. Every string is its own allocation, as a decoded
// request body's are, so that heap measurements are not flattered by sharing.
func entraUser(i int) *scim.User {
	active := true
	created := seedEpoch.Add(time.Duration(i) * time.Second)
	return &scim.User{
		ID:          userID(i),
		ExternalID:  externalID(i),
		UserName:    userName(i),
		DisplayName: displayName(i),
		Active:      &active,
		Name:        &scim.Name{Formatted: displayName(i), FamilyName: familyName(i), GivenName: givenName(i)},
		Emails:      []scim.MultiValue{{Value: userName(i), Type: strings.Clone("work"), Primary: true}},
		Meta:        scim.Meta{ResourceType: strings.Clone("User"), Created: created, LastModified: created},
	}
}

// entraPostBody is the body of Entra's POST /Users (ENTRA.md, "Create") for a new user.
func entraPostBody(name string, k int64) []byte {
	return fmt.Appendf(nil, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],`+
		`"externalId":"%08x-8d2a-4f8e-bf98-7363c4aed4ef","userName":%q,"active":true,`+
		`"displayName":"Jane Doe %d","emails":[{"primary":true,"type":"work","value":%q}],`+
		`"meta":{"resourceType":"User"},"name":{"formatted":"Jane Doe %d","familyName":"Doe","givenName":"Jane"},"roles":[]}`,
		k, name, k, name, k)
}

// entraPatchBody is Entra's default-mode multi-op PATCH (ENTRA.md, "Update"); k makes every value new, so that
// every PATCH is a real write.
func entraPatchBody(k int64) []byte {
	return fmt.Appendf(nil, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[`+
		`{"op":"Replace","path":"displayName","value":"Pvlo %d"},`+
		`{"op":"Replace","path":"emails[type eq \"work\"].value","value":"new%d@contoso.com"},`+
		`{"op":"Replace","path":"name.formatted","value":"Jane Q Doe %d"},`+
		`{"op":"Replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber","value":"%d"}]}`,
		k, k, k, k)
}

// singleTenant is the context the benchmark seeds its stores with: the tenant "" that WithTokens serves.
func singleTenant() context.Context { return scim.ContextWithTenant(context.Background(), "") }

// seedMemory creates users 0..n-1 through the Store API.
func seedMemory(n int) (*memstore.Store, error) {
	s := memstore.New()
	ctx := singleTenant()
	for i := range n {
		if _, err := s.Create(ctx, entraUser(i)); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// sqlRow is a user as sqlstore's scim_users columns hold it. sqlstore builds rows in an unexported method;
// seeding builds the same from exported parts (checkRowFormat proves it is the same) so that a million users
// go in with multi-row INSERTs instead of a million autocommitted ones.
type sqlRow struct {
	id, userName, userNameFold string
	externalID, displayName    sql.NullString
	active                     sql.NullBool
	created, lastModified      string
	data, search               string
}

var userSchema = schema.User()

func toSQLRow(u *scim.User) (sqlRow, error) {
	data, err := json.Marshal(u)
	if err != nil {
		return sqlRow{}, err
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		return sqlRow{}, err
	}
	search, err := json.Marshal(stored.FoldDocument(userSchema, doc))
	if err != nil {
		return sqlRow{}, err
	}
	r := sqlRow{
		id:           u.ID,
		userName:     u.UserName,
		userNameFold: filter.Fold(u.UserName),
		externalID:   sql.NullString{String: u.ExternalID, Valid: u.ExternalID != ""},
		displayName:  sql.NullString{String: filter.Fold(u.DisplayName), Valid: u.DisplayName != ""},
		created:      u.Meta.Created.UTC().Format(stored.TimeLayout),
		lastModified: u.Meta.LastModified.UTC().Format(stored.TimeLayout),
		data:         string(data),
		search:       string(search),
	}
	if u.Active != nil {
		r.active = sql.NullBool{Bool: *u.Active, Valid: true}
	}
	return r, nil
}

const sqlColumns = `tenant, id, user_name, user_name_fold, external_id, display_name_fold, active, created, last_modified, version, data, search`

// checkRowFormat creates one user through the Store API in a scratch tenant and compares the row sqlstore
// wrote with the one seeding would write, so that a change of sqlstore's format fails loudly here instead
// of benchmarking rows the library would not write.
func checkRowFormat(ctx context.Context, s *sqlstore.Store, postgres bool) error {
	const tenant = "bench-format-check"
	tctx := scim.ContextWithTenant(ctx, tenant)
	u := entraUser(0)
	want, err := toSQLRow(entraUser(0))
	if err != nil {
		return err
	}
	if _, err := s.Create(tctx, u); err != nil {
		return err
	}
	q := `SELECT id, user_name, user_name_fold, external_id, display_name_fold, active, created, last_modified, data, search FROM scim_users WHERE tenant = ?`
	if postgres {
		q = strings.Replace(q, "?", "$1", 1)
	}
	var got sqlRow
	if err := s.DB().QueryRowContext(ctx, q, tenant).Scan(&got.id, &got.userName, &got.userNameFold, &got.externalID,
		&got.displayName, &got.active, &got.created, &got.lastModified, &got.data, &got.search); err != nil {
		return err
	}
	if err := s.Delete(tctx, u.ID, ""); err != nil {
		return err
	}
	if postgres { // JSONB normalises the text: compare documents
		got.data, got.search = normJSON(got.data), normJSON(got.search)
		want.data, want.search = normJSON(want.data), normJSON(want.search)
	}
	if got != want {
		return fmt.Errorf("sqlstore's row format changed: update bench/data.go toSQLRow\n got %+v\nwant %+v", got, want)
	}
	return nil
}

func normJSON(s string) string {
	var v any
	d := json.NewDecoder(bytes.NewReader([]byte(s)))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// seedSQL inserts users 0..n-1 into the default tenant with multi-row INSERTs, 500 rows each, 20 per
// transaction; rows are built on every core while the database writes.
func seedSQL(ctx context.Context, s *sqlstore.Store, n int, postgres bool) error {
	if err := checkRowFormat(ctx, s, postgres); err != nil {
		return err
	}
	const batch, perTx = 500, 20
	type chunk struct {
		lo   int
		rows []sqlRow
		err  error
	}
	chunks := make(chan chan chunk, 2*runtime.GOMAXPROCS(0))
	go func() {
		defer close(chunks)
		sem := make(chan struct{}, runtime.GOMAXPROCS(0))
		for lo := 0; lo < n; lo += batch {
			c := make(chan chunk, 1)
			chunks <- c
			sem <- struct{}{}
			go func(lo int) {
				defer func() { <-sem }()
				hi := min(lo+batch, n)
				rows := make([]sqlRow, 0, hi-lo)
				for i := lo; i < hi; i++ {
					r, err := toSQLRow(entraUser(i))
					if err != nil {
						c <- chunk{err: err}
						return
					}
					rows = append(rows, r)
				}
				c <- chunk{lo: lo, rows: rows}
			}(lo)
		}
	}()
	var tx *sql.Tx
	inTx := 0
	var firstErr error
	for c := range chunks {
		ch := <-c
		if firstErr != nil {
			continue // drain
		}
		if ch.err != nil {
			firstErr = ch.err
			continue
		}
		if tx == nil {
			var err error
			if tx, err = s.DB().BeginTx(ctx, nil); err != nil {
				firstErr = err
				continue
			}
		}
		query, args := insertRows(ch.rows, postgres)
		if _, err := tx.ExecContext(ctx, query, args...); err != nil {
			firstErr = err
			continue
		}
		if inTx++; inTx == perTx {
			if err := tx.Commit(); err != nil {
				firstErr = err
			}
			tx, inTx = nil, 0
		}
	}
	if tx != nil {
		if firstErr != nil {
			_ = tx.Rollback()
		} else {
			firstErr = tx.Commit()
		}
	}
	if firstErr == nil && postgres {
		_, firstErr = s.DB().ExecContext(ctx, "ANALYZE scim_users")
	}
	return firstErr
}

func insertRows(rows []sqlRow, postgres bool) (string, []any) {
	var sb strings.Builder
	sb.WriteString("INSERT INTO scim_users (" + sqlColumns + ") VALUES ")
	args := make([]any, 0, len(rows)*11)
	ph := func() string {
		if postgres {
			return "$" + strconv.Itoa(len(args)+1)
		}
		return "?"
	}
	add := func(v any) {
		sb.WriteString(ph())
		args = append(args, v)
	}
	for i, r := range rows {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteByte('(')
		for j, v := range []any{"", r.id, r.userName, r.userNameFold, r.externalID, r.displayName, r.active, r.created, r.lastModified} {
			if j > 0 {
				sb.WriteByte(',')
			}
			add(v)
		}
		sb.WriteString(",1,")
		add(r.data)
		sb.WriteByte(',')
		add(r.search)
		sb.WriteByte(')')
	}
	return sb.String(), args
}

// counter hands out fresh numbers for new users' names and new values, unique in the process.
var counter atomic.Int64

func nextK() int64 { return counter.Add(1) }
