package main

import (
	"context"
	"database/sql"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/schema"
)

// The app's roles (viewer, editor, …) are its own data: each account defines them on its Roles page, and
// Okta imports them from /scim/v2/Roles (a read-only catalog) and grants them through the user's roles
// attribute, which the library checks against this catalog. The table is the app's, with the app's keys:
// rolesStore is a scim.ResourceStore over it, the way a host writes one over a table it already has.

// roleType is the Role resource type /Roles serves: Okta's (its entitlements guide), whose entries are an
// id (the key a grant names), a displayName and a description.
var roleType = schema.OktaRole()

// maxRoles bounds an account's catalog: a catalog is listed whole and filtered in Go, so its size is its cost.
const maxRoles = 200

// roleKey is what a role's key may be: what an administrator types, and what Okta sends back as a grant.
var roleKey = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,39}$`)

// rolesStore keeps the account's roles in app_roles.
type rolesStore struct{ db *sql.DB }

// errTooManyRoles refuses a role past maxRoles.
var errTooManyRoles = errors.New("an account has at most 200 roles")

// roleColumns are the Role's attributes beside its id, as app_roles names them.
var roleColumns = [...]struct{ attr, column string }{
	{"displayName", "name"}, {"type", "kind"}, {"description", "description"}, {"externalId", "external_id"},
}

// roleValues returns d's attributes in roleColumns' order ("" when unassigned).
func roleValues(d *scim.Document) []any {
	out := make([]any, len(roleColumns))
	for i, c := range roleColumns {
		v, _ := d.Attributes[c.attr].(string)
		out[i] = v
	}
	return out
}

func (s rolesStore) scan(row interface{ Scan(...any) error }) (*scim.Document, error) {
	var id, created, modified string
	var vals [len(roleColumns)]string
	var version int64
	if err := row.Scan(&id, &vals[0], &vals[1], &vals[2], &vals[3], &version, &created, &modified); err != nil {
		return nil, err
	}
	d := &scim.Document{ID: id, Attributes: map[string]any{}}
	for i, c := range roleColumns {
		if vals[i] != "" {
			d.Attributes[c.attr] = vals[i]
		}
	}
	d.Meta.Version = itoa(version)
	d.Meta.Created, _ = time.Parse(time.RFC3339Nano, created)
	d.Meta.LastModified, _ = time.Parse(time.RFC3339Nano, modified)
	return d, nil
}

const roleSelect = `id, name, kind, description, external_id, version, created, modified`

// Create implements scim.ResourceStore: the Roles page's "Add role" (the handler never calls it: the
// catalog is read-only over SCIM).
func (s rolesStore) Create(ctx context.Context, d *scim.Document) (*scim.Document, error) {
	account, err := scim.Tenant(ctx)
	if err != nil {
		return nil, err
	}
	// One statement: the count and the insert cannot race each other into a catalog past its bound.
	args := append(append([]any{account, d.ID}, roleValues(d)...),
		d.Meta.Created.Format(time.RFC3339Nano), d.Meta.LastModified.Format(time.RFC3339Nano), account, maxRoles)
	res, err := s.db.ExecContext(ctx, `INSERT INTO app_roles (account_id, id, name, kind, description, external_id, version, created, modified)
		SELECT ?, ?, ?, ?, ?, ?, 1, ?, ? WHERE (SELECT count(*) FROM app_roles WHERE account_id = ?) < ?`, args...)
	if err != nil {
		if strings.Contains(err.Error(), "UNIQUE") {
			return nil, scim.ErrConflict
		}
		return nil, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil, errTooManyRoles
	}
	d.Meta.Version = "1"
	return d, nil
}

// Get implements scim.ResourceStore.
func (s rolesStore) Get(ctx context.Context, id string) (*scim.Document, error) {
	account, err := scim.Tenant(ctx)
	if err != nil {
		return nil, err
	}
	d, err := s.scan(s.db.QueryRowContext(ctx, `SELECT `+roleSelect+` FROM app_roles WHERE account_id = ? AND id = ?`, account, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, scim.ErrNotFound
	}
	return d, err
}

// Replace implements scim.ResourceStore (renaming a role keeps its key, so grants follow it).
func (s rolesStore) Replace(ctx context.Context, d *scim.Document, version string) (*scim.Document, error) {
	account, err := scim.Tenant(ctx)
	if err != nil {
		return nil, err
	}
	args := append(roleValues(d), d.Meta.LastModified.Format(time.RFC3339Nano), account, d.ID, version, version)
	res, err := s.db.ExecContext(ctx, `UPDATE app_roles SET name = ?, kind = ?, description = ?, external_id = ?,
		version = version + 1, modified = ? WHERE account_id = ? AND id = ? AND (? = '' OR version = ?)`, args...)
	if err != nil {
		return nil, err
	}
	if err := s.changed(ctx, res, d.ID); err != nil {
		return nil, err
	}
	return s.Get(ctx, d.ID)
}

// Delete implements scim.ResourceStore: the Roles page's "Delete". Users keep a deleted role's grant
// until their identity provider removes it; the app no longer honours it.
func (s rolesStore) Delete(ctx context.Context, id, version string) error {
	account, err := scim.Tenant(ctx)
	if err != nil {
		return err
	}
	res, err := s.db.ExecContext(ctx, `DELETE FROM app_roles WHERE account_id = ? AND id = ? AND (? = '' OR version = ?)`,
		account, id, version, version)
	if err != nil {
		return err
	}
	return s.changed(ctx, res, id)
}

// changed turns a write that touched no row into ErrNotFound or ErrVersionMismatch.
func (s rolesStore) changed(ctx context.Context, res sql.Result, id string) error {
	if n, err := res.RowsAffected(); err != nil || n > 0 {
		return err
	}
	if _, err := s.Get(ctx, id); err != nil {
		return err
	}
	return scim.ErrVersionMismatch
}

// List implements scim.ResourceStore: the account's whole catalog (at most maxRoles rows, by its primary
// key's index), filtered, sorted and paged in Go.
func (s rolesStore) List(ctx context.Context, q scim.Query) (*scim.DocumentPage, error) {
	account, err := scim.Tenant(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+roleSelect+` FROM app_roles WHERE account_id = ? ORDER BY rowid LIMIT ?`, account, maxRoles)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var docs []*scim.Document
	for rows.Next() {
		d, err := s.scan(rows)
		if err != nil {
			return nil, err
		}
		docs = append(docs, d)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if q.MaxScan > 0 && len(docs) > q.MaxScan && (q.Filter != nil || q.SortBy.Attr != nil) {
		return nil, scim.ErrTooMany // a handler's MaxScan below the catalog's bound: as the kit requires
	}
	return scim.ApplyDocuments(docs, q), nil
}

// roleRow is a role as the Roles page lists it.
type roleRow struct{ ID, Name, Description string }

// rolesPage lists the account's roles, with the form that adds one.
func (a *app) rolesPage(w http.ResponseWriter, r *http.Request, s *adminSession) {
	a.renderRoles(w, r, s, http.StatusOK, "")
}

func (a *app) renderRoles(w http.ResponseWriter, r *http.Request, s *adminSession, status int, problem string) {
	page, err := a.roles.List(scim.ContextWithTenant(r.Context(), s.AccountID), scim.Query{StartIndex: 1, Count: maxRoles})
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	rows := make([]roleRow, len(page.Documents))
	for i, d := range page.Documents {
		name, _ := d.Attributes["displayName"].(string)
		desc, _ := d.Attributes["description"].(string)
		rows[i] = roleRow{ID: d.ID, Name: name, Description: desc}
	}
	a.render(w, r, status, "roles", map[string]any{"Title": s.AccountName + ": roles", "S": s, "Roles": rows, "Problem": problem,
		"RolesURL": a.publicURL(r) + "/scim/v2/Roles"})
}

// addRole adds a role to the account's catalog; Okta sees it at its next import.
func (a *app) addRole(w http.ResponseWriter, r *http.Request, s *adminSession) {
	key, name := strings.TrimSpace(r.PostFormValue("key")), strings.TrimSpace(r.PostFormValue("name"))
	desc := strings.TrimSpace(r.PostFormValue("description"))
	switch {
	case !roleKey.MatchString(key):
		a.renderRoles(w, r, s, http.StatusBadRequest, "A role's key is 1 to 40 lower-case letters, digits, '-' or '_', starting with a letter.")
		return
	case name == "" || len(name) > 200 || len(desc) > 1000:
		a.renderRoles(w, r, s, http.StatusBadRequest, "A role needs a name (at most 200 characters; a description at most 1000).")
		return
	}
	now := time.Now().UTC()
	d := &scim.Document{ID: key, Attributes: map[string]any{"displayName": name}, Meta: scim.Meta{Created: now, LastModified: now}}
	if desc != "" {
		d.Attributes["description"] = desc
	}
	_, err := a.roles.Create(scim.ContextWithTenant(r.Context(), s.AccountID), d)
	switch {
	case errors.Is(err, scim.ErrConflict):
		a.renderRoles(w, r, s, http.StatusConflict, "This account already has a role with that key.")
		return
	case errors.Is(err, errTooManyRoles):
		a.renderRoles(w, r, s, http.StatusConflict, "This account has "+itoa(maxRoles)+" roles already.")
		return
	case err != nil:
		a.serverError(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/roles", http.StatusSeeOther)
}

// deleteRole removes a role from the account's catalog.
func (a *app) deleteRole(w http.ResponseWriter, r *http.Request, s *adminSession) {
	err := a.roles.Delete(scim.ContextWithTenant(r.Context(), s.AccountID), r.PathValue("id"), "")
	if err != nil && !errors.Is(err, scim.ErrNotFound) {
		a.serverError(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/roles", http.StatusSeeOther)
}
