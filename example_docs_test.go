package scim_test

// The Go of README.md and docs/*.md, compiled (docs_test.go checks that every block there equals its region
// here). Examples without an Output comment are compiled and vetted, not run.

import (
	"context"
	"database/sql"
	"errors"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/filter"
	"github.com/scimkit/scim/memstore"
	"github.com/scimkit/scim/schema"
)

// README.md, docs/options.md: the handler mounted in an app's own mux.
func Example_mount() {
	mux := http.NewServeMux()
	// snippet:mount
	store := memstore.New() // or your own Store over your database
	h, err := scim.New(store,
		scim.WithTokens(os.Getenv("SCIM_TOKEN")),            // or WithAuthenticator for many tenants
		scim.WithBaseURL("https://api.example.com/scim/v2"), // for meta.location behind a proxy
	)
	if err != nil {
		log.Fatal(err) // SCIM_TOKEN unset, say: refused here rather than served as 401s
	}
	mux.Handle("/scim/v2/", http.StripPrefix("/scim/v2", h))
	// end
}

// docs/options.md: the bounds, one Limits value.
func Example_limits() {
	store := memstore.New()
	h, err := scim.New(store, scim.WithTokens(os.Getenv("SCIM_TOKEN")),
		// snippet:limits
		scim.WithLimits(scim.Limits{
			MaxResults: 200,
			MaxScan:    scim.NoLimit,
			Tenant:     scim.TenantLimits{MaxConcurrent: 4},
		}),
		// end
	)
	_, _ = h, err
}

// accountsTable stands for the host's table of customer accounts, keyed by token hash.
type accountsTable struct{}

type account struct{ ID string }

func (accountsTable) ByTokenHash(ctx context.Context, hash scim.TokenHash) (account, error) {
	return account{}, errors.New("no such token")
}

var accounts accountsTable

// docs/tenancy.md: each customer account's token names its tenant.
func Example_authenticator() {
	var store scim.Store = memstore.New()
	// snippet:authenticator
	h := scim.MustNew(store, scim.WithAuthenticator(func(r *http.Request) (string, error) {
		tok, ok := scim.BearerToken(r)
		if !ok {
			return "", scim.ErrUnauthorized
		}
		account, err := accounts.ByTokenHash(r.Context(), scim.HashToken(tok))
		if err != nil {
			return "", scim.ErrUnauthorized // 401 with a SCIM error body and WWW-Authenticate
		}
		return account.ID, nil
	}))
	// end
	_ = h
}

// docs/schema.md: the User resource a host keeps, declared once.
func Example_declareUser() {
	var store scim.Store = memstore.New()
	token := os.Getenv("SCIM_TOKEN")
	// snippet:declare
	const moqups = "urn:ietf:params:scim:schemas:extension:Moqups:2.0:User"

	var users = schema.MustDeclareUser(schema.UserDeclaration{
		// The five attributes Entra ID maps for a typical app; "name.formatted" keeps only that sub-attribute.
		Attributes: []string{"userName", "active", "displayName", "emails", "name.formatted"},
		// Attributes an Entra ID admin maps with "Edit attribute list" (urn:…:<App>:2.0:User:<attr>).
		Extensions: []*schema.Schema{{ID: moqups, Attributes: []*schema.Attribute{
			{Name: "costCode", Type: schema.String, CaseExact: true},
			{Name: "seats", Type: schema.Integer},
		}}},
	})

	h := scim.MustNew(store, scim.WithUserSchema(users), scim.WithTokens(token))
	// end
	_ = h
}

// docs/schema.md: a host extension's attribute, typed, in a Store's Create and Get.
func Example_extensionAttr() {
	const moqups = "urn:ietf:params:scim:schemas:extension:Moqups:2.0:User"
	u := new(scim.User)
	// snippet:extension-attr
	var seats = scim.ExtensionAttr[int64]{URN: moqups, Name: "seats"}

	n, ok := seats.Get(u) // in Create and Replace
	seats.Set(u, n)       // in Get and List
	// end
	_ = ok
}

// snippet:store-interface
type Store interface {
	Create(ctx context.Context, u *scim.User) (*scim.User, error)
	Get(ctx context.Context, id string) (*scim.User, error)
	Replace(ctx context.Context, u *scim.User, version string) (*scim.User, error)
	Delete(ctx context.Context, id, version string) error
	List(ctx context.Context, q scim.Query) (*scim.Page, error)
}

// end

// docs/stores.md shows Store as scim.Store has it: each converts to the other, so the method sets are equal.
var (
	_ Store      = scim.Store(nil)
	_ scim.Store = Store(nil)
)

// isUniqueViolation stands for the driver's test of a unique index's violation.
func isUniqueViolation(err error) bool { return false }

// README.md: a Store over the app's own table, its Create method.
// snippet:store
// Users is a Store over the app's own users table.
type Users struct{ db *sql.DB }

func (s *Users) Create(ctx context.Context, u *scim.User) (*scim.User, error) {
	tenant, err := scim.Tenant(ctx) // first in every method: touch this tenant's rows only
	if err != nil {
		return nil, err
	}
	u.Meta.Version = "1" // a new opaque version on every write
	_, err = s.db.ExecContext(ctx, `INSERT INTO users (id, org_id, user_name, user_name_key, display_name, version)
		VALUES (?, ?, ?, ?, ?, 1)`, u.ID, tenant, u.UserName, filter.Fold(u.UserName), u.DisplayName)
	switch {
	case isUniqueViolation(err): // a unique index on (org_id, user_name_key)
		return nil, scim.ErrConflict // 409 uniqueness
	case err != nil:
		return nil, err // a temporary failure wrapped in scim.ErrUnavailable answers 503
	}
	return u, nil
}

// end

// The rest of Users, so that it is a scim.Store.

func (s *Users) Get(ctx context.Context, id string) (*scim.User, error) { return nil, scim.ErrNotFound }
func (s *Users) Replace(ctx context.Context, u *scim.User, version string) (*scim.User, error) {
	return nil, scim.ErrNotFound
}
func (s *Users) Delete(ctx context.Context, id, version string) error { return scim.ErrNotFound }
func (s *Users) List(ctx context.Context, q scim.Query) (*scim.Page, error) {
	return scim.ApplyQuery(nil, q), nil
}

var _ scim.Store = (*Users)(nil)

// sessionStore stands for the host's own sign-in sessions.
type sessionStore struct{}

func (sessionStore) RevokeAll(ctx context.Context, tenant, userID string) {}

var sessions sessionStore

// docs/events.md: a deactivated user loses access now.
func Example_events() {
	var store scim.Store = memstore.New()
	// snippet:events
	h := scim.MustNew(store, scim.WithEvents(func(ctx context.Context, e scim.Event) {
		switch e.Type {
		case scim.UserDeactivated, scim.UserDeleted:
			sessions.RevokeAll(ctx, e.Tenant, e.UserID) // the host's own code; by id: a userName can be renamed
		}
	}))
	// end
	_ = h
}

// docs/events.md: the order of shutdown.
func Example_shutdown() {
	var (
		srv *http.Server
		h   *scim.Handler
		db  *sql.DB
	)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// snippet:shutdown
	_ = srv.Shutdown(ctx) // no request in flight after this
	_ = h.Shutdown(ctx)   // every event queued so far delivered
	db.Close()
	// end
}

// docs/okta.md, docs/resources.md: a host serving its own entitlement catalogs to Okta.
func Example_oktaCatalogs() {
	// snippet:okta-catalogs
	roleType := schema.OktaRole()
	roles := memstore.NewDocuments(roleType) // or the host's own ResourceStore over its roles table
	// Each tenant's catalog is the host's data: here one tenant with two roles, ids as Okta will grant them.
	ctx := scim.ContextWithTenant(context.Background(), "acme")
	for id, name := range map[string]string{"admin": "Administrator", "viewer": "Viewer"} {
		if _, err := roles.Create(ctx, &scim.Document{ID: id, Attributes: map[string]any{"displayName": name}}); err != nil {
			log.Fatal(err)
		}
	}
	// A further catalog under Okta's Entitlement schema, at an endpoint of its own.
	licenseType := schema.MustDeclare(schema.ResourceDeclaration{
		Name: "License", Endpoint: "/Licenses", Description: "Seats", Schema: schema.OktaEntitlement().Core,
	})
	h, err := scim.New(memstore.New(),
		scim.WithTokens(os.Getenv("SCIM_TOKEN")),
		scim.WithResource(scim.Resource{Type: roleType, Store: roles, ReadOnly: true, Grants: "roles"}),
		scim.WithResource(scim.Resource{Type: licenseType, Store: memstore.NewDocuments(licenseType),
			ReadOnly: true, Grants: "entitlements"}),
	)
	// end
	if err != nil {
		log.Fatal(err)
	}
	_ = h
}
