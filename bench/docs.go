package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/filter"
	"github.com/scimkit/scim/memstore"
	"github.com/scimkit/scim/scimtest"
	"github.com/scimkit/scim/shared/stored"
	"github.com/scimkit/scim/sqlstore"
)

// A declared resource type (issue 17), served by our handler next to the users: Account, shaped like them
// (a name unique per server, as userName is, displayName, active, externalId), kept by memstore.NewDocuments
// or by the SQL store's Resources. doc-get and doc-eq read account i as get and eq-hit read user i; elimity's
// server and the ceiling serve no declared type and skip them.

var accountType = scimtest.AccountType()

func isDocOp(op string) bool { return op == opDocGet || op == opDocEq }

// accountID is account i's id; its name is userName(i), its displayName and externalId user i's.
func accountID(i int) string { return "00000000-0000-4000-9000-" + pad(strconv.Itoa(i), 12) }

// account is account i as the handler makes it of a POST (its canonical document) and hands it to the Store.
func account(i int) *scim.Document {
	created := seedEpoch.Add(time.Duration(i) * time.Second)
	return &scim.Document{ID: accountID(i), Attributes: map[string]any{
		"name": userName(i), "displayName": displayName(i), "active": true, "externalId": externalID(i),
	}, Meta: scim.Meta{Created: created, LastModified: created}}
}

func docCalls(op string, d draw) []call {
	name := `"name":"` + userName(d.r) + `"`
	if op == opDocGet {
		return []call{{method: "GET", uri: "/Accounts/" + accountID(d.r), status: 200, contains: []string{name}}}
	}
	return []call{{method: "GET", uri: "/Accounts?filter=" + url.QueryEscape(`name eq "`+userName(d.r)+`"`), status: 200,
		contains: []string{`"totalResults":1`, name}}}
}

// withAccounts is the option serving store's accounts.
func withAccounts(store scim.ResourceStore) scim.Option {
	return scim.WithResource(scim.Resource{Type: accountType, Store: store})
}

// seedDocsMemory creates accounts 0..n-1 through the ResourceStore API.
func seedDocsMemory(n int) (*memstore.Documents, error) {
	d := memstore.NewDocuments(accountType)
	ctx := singleTenant()
	for i := range n {
		if _, err := d.Create(ctx, account(i)); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// docRow is an account as scim_resources holds it, and its scim_resource_keys rows.
type docRow struct {
	id, created, lastModified, doc string
	keys                           []docKey
}

type docKey struct {
	attr, fold string
	uniq       bool
}

func toDocRow(d *scim.Document) (docRow, error) {
	data, err := json.Marshal(d.Attributes)
	if err != nil {
		return docRow{}, err
	}
	r := docRow{id: d.ID, doc: string(data), created: d.Meta.Created.UTC().Format(stored.TimeLayout),
		lastModified: d.Meta.LastModified.UTC().Format(stored.TimeLayout)}
	for _, a := range []string{"name", "displayName", "externalId"} { // the keyed ones: strings of the core schema, externalId
		r.keys = append(r.keys, docKey{attr: a, fold: filter.Fold(d.Attributes[a].(string)), uniq: a == "name"})
	}
	return r, nil
}

// checkDocFormat creates one account through Resources in a scratch tenant and compares its rows with the
// ones seeding writes, as checkRowFormat does for users.
func checkDocFormat(ctx context.Context, s *sqlstore.Store, postgres bool) error {
	tctx := scim.ContextWithTenant(ctx, "bench-format-check")
	want, err := toDocRow(account(0))
	if err != nil {
		return err
	}
	if _, err := s.Resources(accountType).Create(tctx, account(0)); err != nil {
		return err
	}
	q := func(query string) string { return pgPlaceholders(query, postgres) }
	var got docRow
	if err := s.DB().QueryRowContext(ctx, q(`SELECT id, created, last_modified, doc FROM scim_resources WHERE tenant = ? AND type = ?`),
		"bench-format-check", accountType.Name).Scan(&got.id, &got.created, &got.lastModified, &got.doc); err != nil {
		return err
	}
	rows, err := s.DB().QueryContext(ctx, q(`SELECT attr, fold, uniq FROM scim_resource_keys WHERE tenant = ? AND type = ? AND id = ?`),
		"bench-format-check", accountType.Name, got.id)
	if err != nil {
		return err
	}
	for rows.Next() {
		var k docKey
		if err := rows.Scan(&k.attr, &k.fold, &k.uniq); err != nil {
			rows.Close()
			return err
		}
		got.keys = append(got.keys, k)
	}
	rows.Close()
	if err := s.Resources(accountType).Delete(tctx, want.id, ""); err != nil {
		return err
	}
	byAttr := func(a, b docKey) int { return strings.Compare(a.attr, b.attr) }
	slices.SortFunc(got.keys, byAttr)
	slices.SortFunc(want.keys, byAttr)
	got.doc, want.doc = normJSON(got.doc), normJSON(want.doc)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		return fmt.Errorf("sqlstore's resource format changed: update bench/docs.go toDocRow\n got %+v\nwant %+v", got, want)
	}
	return nil
}

// pgPlaceholders numbers query's placeholders for PostgreSQL ($1, $2, …).
func pgPlaceholders(query string, postgres bool) string {
	if !postgres {
		return query
	}
	var b strings.Builder
	n := 0
	for _, c := range query {
		if c != '?' {
			b.WriteRune(c)
			continue
		}
		n++
		b.WriteString("$" + strconv.Itoa(n))
	}
	return b.String()
}

// seedDocsSQL inserts accounts 0..n-1 into the default tenant with multi-row INSERTs, as seedSQL does users
// (through the API, one transaction each, 100k would take minutes).
func seedDocsSQL(ctx context.Context, s *sqlstore.Store, n int, postgres bool) error {
	if err := checkDocFormat(ctx, s, postgres); err != nil {
		return err
	}
	const batch = 500
	for lo := 0; lo < n; lo += batch * 20 {
		err := func() error {
			tx, err := s.DB().BeginTx(ctx, nil)
			if err != nil {
				return err
			}
			defer func() { _ = tx.Rollback() }()
			for b := lo; b < min(lo+batch*20, n); b += batch {
				if err := insertDocs(ctx, tx, b, min(b+batch, n), postgres); err != nil {
					return err
				}
			}
			return tx.Commit()
		}()
		if err != nil {
			return err
		}
	}
	if postgres {
		for _, t := range []string{"scim_resources", "scim_resource_keys"} {
			if _, err := s.DB().ExecContext(ctx, "ANALYZE "+t); err != nil {
				return err
			}
		}
	}
	return nil
}

// insertDocs inserts accounts lo..hi-1 and their keys.
func insertDocs(ctx context.Context, tx *sql.Tx, lo, hi int, postgres bool) error {
	var docs, keys strings.Builder
	docs.WriteString(`INSERT INTO scim_resources (tenant, type, id, version, created, last_modified, doc) VALUES `)
	keys.WriteString(`INSERT INTO scim_resource_keys (tenant, type, attr, fold, id, uniq) VALUES `)
	var docArgs, keyArgs []any
	for i := lo; i < hi; i++ {
		r, err := toDocRow(account(i))
		if err != nil {
			return err
		}
		if i > lo {
			docs.WriteByte(',')
		}
		docs.WriteString("(?, ?, ?, 1, ?, ?, ?)")
		docArgs = append(docArgs, "", accountType.Name, r.id, r.created, r.lastModified, r.doc)
		for j, k := range r.keys {
			if i > lo || j > 0 {
				keys.WriteByte(',')
			}
			keys.WriteString("(?, ?, ?, ?, ?, ?)")
			keyArgs = append(keyArgs, "", accountType.Name, k.attr, k.fold, r.id, k.uniq)
		}
	}
	if _, err := tx.ExecContext(ctx, pgPlaceholders(docs.String(), postgres), docArgs...); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, pgPlaceholders(keys.String(), postgres), keyArgs...)
	return err
}
