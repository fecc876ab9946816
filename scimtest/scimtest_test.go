package scimtest_test

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/internal/slicestore"
	"github.com/scimkit/scim/memstore"
	"github.com/scimkit/scim/schema"
	"github.com/scimkit/scim/scimtest"
)

func TestMemstore(t *testing.T) {
	scimtest.TestStore(t, func(*testing.T) scim.Store { return memstore.New() })
}

// appExt is a host extension with an attribute of every simple type, multi-valued and complex ones.
var appExt = &schema.Schema{
	ID: "urn:ietf:params:scim:schemas:extension:ScimTest:2.0:User",
	Attributes: []*schema.Attribute{
		{Name: "costCode", Type: schema.String},
		{Name: "badge", Type: schema.String, CaseExact: true},
		{Name: "contractor", Type: schema.Boolean},
		{Name: "level", Type: schema.Integer},
		{Name: "fte", Type: schema.Decimal},
		{Name: "hired", Type: schema.DateTime},
		{Name: "tags", Type: schema.String, MultiValued: true},
		{Name: "desk", Type: schema.Complex, SubAttributes: []*schema.Attribute{
			{Name: "building", Type: schema.String}, {Name: "floor", Type: schema.Integer},
		}},
	},
}

// A declared subset with an extension of the host's: only those attributes go to the Store and come back,
// and filters on the others are skipped.
func TestMemstoreDeclared(t *testing.T) {
	rt := schema.MustDeclareUser(schema.UserDeclaration{
		Attributes: []string{"userName", "active", "displayName", "emails", "name.formatted",
			schema.EnterpriseUserURN + ":employeeNumber"},
		Extensions: []*schema.Schema{appExt},
	})
	scimtest.TestStore(t, func(*testing.T) scim.Store { return memstore.New() },
		scimtest.Options{Schema: rt, Passwords: true})
}

// hostStore is a Store as a host's own table makes it: integer ids it assigns, integer tenants (an account's
// key), and an active flag that is never unassigned (a NOT NULL column). memstore keeps the users.
type hostStore struct {
	*memstore.Store
	mu   sync.Mutex
	next int
}

func (s *hostStore) tenant(ctx context.Context) error {
	t, _ := scim.Tenant(ctx)
	if _, err := strconv.Atoi(t); err != nil {
		return fmt.Errorf("hostStore: tenant %q is not an account id", t)
	}
	return nil
}

func (s *hostStore) Create(ctx context.Context, u *scim.User) (*scim.User, error) {
	if err := s.tenant(ctx); err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.next++
	u.ID = strconv.Itoa(s.next)
	s.mu.Unlock()
	if u.Active == nil {
		u.Active = new(true)
	}
	return s.Store.Create(ctx, u)
}

func (s *hostStore) Replace(ctx context.Context, u *scim.User, version string) (*scim.User, error) {
	if err := s.tenant(ctx); err != nil {
		return nil, err
	}
	if u.Active == nil {
		u.Active = new(true)
	}
	return s.Store.Replace(ctx, u, version)
}

func (s *hostStore) List(ctx context.Context, q scim.Query) (*scim.Page, error) {
	if err := s.tenant(ctx); err != nil {
		return nil, err
	}
	return s.Store.List(ctx, q)
}

// A Store with its own ids and tenants passes what a UUID-keeping one passes, given its tenants and its
// default for active.
func TestHostIDsAndTenants(t *testing.T) {
	rt := schema.MustDeclareUser(schema.UserDeclaration{Extensions: []*schema.Schema{appExt}})
	scimtest.TestStore(t, func(*testing.T) scim.Store { return &hostStore{Store: memstore.New()} },
		scimtest.Options{Schema: rt, Tenants: [2]string{"1", "2"}, Defaults: map[string]any{"active": true}})
}

// TestSliceStore runs the kit over a Store and GroupStore as docs/stores.md tells a newcomer to write one:
// slices, and a List that is a scim.Collector (not a scim.GroupFilterer).
func TestSliceStore(t *testing.T) {
	scimtest.TestStore(t, func(*testing.T) scim.Store { return slicestore.New() })
}

// TestSliceStoreHTTP runs the protocol suite over it: the handler resolves filters on groups itself.
func TestSliceStoreHTTP(t *testing.T) {
	scimtest.TestHandler(t, func(*testing.T) scim.Store { return slicestore.New() })
}

// numericTenants is a memstore that serves only tenants named by an integer, as a host's accounts table
// keys them: any other tenant (the suite's "" or "tenant-a") is an error.
type numericTenants struct{ *memstore.Store }

func numeric(ctx context.Context) error {
	t, err := scim.Tenant(ctx)
	if err != nil {
		return err
	}
	if _, err := strconv.ParseInt(t, 10, 64); err != nil {
		return fmt.Errorf("tenant %q is not an account id: %w", t, err)
	}
	return nil
}

func (s numericTenants) Create(ctx context.Context, u *scim.User) (*scim.User, error) {
	if err := numeric(ctx); err != nil {
		return nil, err
	}
	return s.Store.Create(ctx, u)
}

func (s numericTenants) Get(ctx context.Context, id string) (*scim.User, error) {
	if err := numeric(ctx); err != nil {
		return nil, err
	}
	return s.Store.Get(ctx, id)
}

func (s numericTenants) List(ctx context.Context, q scim.Query) (*scim.Page, error) {
	if err := numeric(ctx); err != nil {
		return nil, err
	}
	return s.Store.List(ctx, q)
}

// TestHandlerTenants runs the protocol suite in the host's tenants, which its Store insists on.
func TestHandlerTenants(t *testing.T) {
	scimtest.TestHandler(t, func(*testing.T) scim.Store { return numericTenants{memstore.New()} },
		scimtest.HandlerOptions{Tenants: [2]string{"17", "42"}, Parallel: true})
}

// oneEmail keeps one email of a user, as a single email column does: the work address (else the primary,
// else the first), returned as the primary work email. It drops nickName, which the host computes.
type oneEmail struct{ *memstore.Store }

func (s oneEmail) keep(u *scim.User) *scim.User {
	u.NickName = ""
	if len(u.Emails) == 0 {
		return u
	}
	pick := u.Emails[0]
	for _, e := range u.Emails {
		if e.Primary {
			pick = e
		}
	}
	for _, e := range u.Emails {
		if e.Type == "work" {
			pick = e
			break
		}
	}
	u.Emails = []scim.MultiValue{{Value: pick.Value, Type: "work", Primary: true}}
	return u
}

func (s oneEmail) Create(ctx context.Context, u *scim.User) (*scim.User, error) {
	return s.Store.Create(ctx, s.keep(u))
}

func (s oneEmail) Replace(ctx context.Context, u *scim.User, version string) (*scim.User, error) {
	return s.Store.Replace(ctx, s.keep(u), version)
}

// A Store that derives emails from what it is given, and keeps no nickName, passes once it says so; the
// groups a GroupStore computes are never asked of it.
func TestDerivedAndComputed(t *testing.T) {
	rt := schema.MustDeclareUser(schema.UserDeclaration{
		Attributes: []string{"userName", "nickName", "displayName", "emails", "groups"},
	})
	scimtest.TestStore(t, func(*testing.T) scim.Store { return oneEmail{memstore.New()} },
		scimtest.Options{Schema: rt, Derived: []string{"emails"}, Computed: []string{"nickName"}})
}
