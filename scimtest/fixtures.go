package scimtest

import (
	"strings"
	"time"

	"github.com/scimkit/scim"
)

// Fixtures. Every function returns fresh values: a Store owns the users it is given (Create and Replace), so
// the checks build one copy to give and another to compare with. The config's methods cut them down to the
// declaration and add the host's extension attributes (and a password hash, when the Store keeps one).

// t0 is the base time of the fixtures: UTC, with milliseconds, as the handler makes them.
var t0 = time.Date(2024, time.March, 10, 9, 30, 0, 123_000_000, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

func ptr[T any](v T) *T { return &v }

// fullUser returns a user with every attribute of scim.User assigned (all sub-attributes, several elements in
// every multi-valued attribute, the enterprise extension), as the handler passes it to Create. variant 0 and 1
// differ in every value, so Replacing one by the other changes everything; variant 1 has active=false.
func rawFullUser(id, userName string, variant int) *scim.User {
	v := []string{"a", "b"}[variant]
	s := func(x string) string { return x + "-" + v }
	// One creation time for both variants: Replace keeps Meta.Created (the handler passes the one it read),
	// so a Store may write it back or leave its created_at column alone. lastModified differs.
	created := at(0)
	u := &scim.User{
		ID:         id,
		ExternalID: s("Ext-Full"),
		UserName:   userName,
		Name: &scim.Name{
			Formatted:       s(`Ms. Barbara "Babs" J Jensen, III`),
			FamilyName:      s("Jensen"),
			GivenName:       s("Barbara"),
			MiddleName:      s("Jane"),
			HonorificPrefix: s("Ms."),
			HonorificSuffix: s("III"),
		},
		DisplayName:       s("Babs Jensen ✓ «ünïcödé»"),
		NickName:          s("Babs"),
		ProfileURL:        s("https://login.example.com/bjensen"),
		Title:             s("Tour Guide"),
		UserType:          s("Employee"),
		PreferredLanguage: []string{"en-US", "fr-CA"}[variant],
		Locale:            []string{"en-US", "fr-CA"}[variant],
		Timezone:          []string{"America/Los_Angeles", "Europe/Paris"}[variant],
		Active:            ptr(variant == 0),
		Emails: []scim.MultiValue{
			{Value: s("bjensen@work.example.com"), Display: s("Work"), Type: "work", Primary: true},
			{Value: s("babs@home.example.com"), Type: "home"},
			{Value: s("b.jensen@other.example.org"), Display: s("Other"), Type: "other"},
		},
		PhoneNumbers: []scim.MultiValue{
			{Value: s("tel:+1-201-555-0123"), Type: "work", Primary: variant == 1},
			{Value: s("tel:+1-201-555-0199"), Display: s("mobile"), Type: "mobile", Primary: variant == 0},
		},
		IMs: []scim.MultiValue{
			{Value: s("someaimhandle"), Type: "aim", Primary: true},
			{Value: s("babs.xmpp"), Display: s("XMPP"), Type: "xmpp"},
		},
		Photos: []scim.MultiValue{
			{Value: s("https://photos.example.com/profilephoto/72930000000Ccne/F"), Type: "photo", Primary: true},
			{Value: s("https://photos.example.com/profilephoto/72930000000Ccne/T"), Type: "thumbnail"},
		},
		Addresses: []scim.Address{
			{
				Formatted:     s("100 Universal City Plaza\nHollywood, CA 91608 USA"),
				StreetAddress: s("100 Universal City Plaza"),
				Locality:      s("Hollywood"),
				Region:        s("CA"),
				PostalCode:    s("91608"),
				Country:       []string{"US", "FR"}[variant],
				Type:          "work",
				Primary:       true,
			},
			{
				Formatted:     s("456 Hollywood Blvd\nHollywood, CA 91608 USA"),
				StreetAddress: s("456 Hollywood Blvd"),
				Locality:      s("Hollywood"),
				Region:        s("CA"),
				PostalCode:    s("91608"),
				Country:       "US",
				Type:          "home",
			},
		},
		Groups: []scim.GroupRef{
			{Value: s("e9e30dba-f08f-4109-8486-d5c6a331660a"), Ref: s("https://example.com/v2/Groups/e9e30dba"),
				Display: s("Tour Guides"), Type: "direct"},
			{Value: s("fc348aa8-3835-40eb-a20b-c726e15c55b5"), Ref: s("https://example.com/v2/Groups/fc348aa8"),
				Display: s("Employees"), Type: "indirect"},
		},
		Entitlements: []scim.MultiValue{
			{Value: s("billing:read"), Display: s("Billing reader"), Type: "app", Primary: true},
			{Value: s("billing:write"), Type: "app"},
		},
		Roles: []scim.MultiValue{
			{Value: s("admin"), Display: s("Administrator"), Type: "app", Primary: true},
			{Value: s("auditor"), Type: "app"},
		},
		X509Certificates: []scim.MultiValue{
			{Value: s("MIIDQzCCAqygAwIBAgICEAAwDQYJKoZIhvcNAQEFBQAwTjELMAkGA1UEBhMCVVMx"), Display: s("cert"), Primary: true},
			{Value: s("MIIDQzCCAqygAwIBAgICEAEwDQYJKoZIhvcNAQEFBQAwTjELMAkGA1UEBhMCVVMx"), Type: "backup"},
		},
		Enterprise: &scim.EnterpriseUser{
			EmployeeNumber: s("701984"),
			CostCenter:     s("4130"),
			Organization:   s("Universal Studios"),
			Division:       s("Theme Park"),
			Department:     s("Tour Operations"),
			Manager: &scim.Manager{
				Value:       s("26118915-6090-4610-87e4-49d8ca9f808d"),
				Ref:         s("../Users/26118915-6090-4610-87e4-49d8ca9f808d"),
				DisplayName: s("John Smith"),
			},
		},
		Meta: scim.Meta{
			ResourceType: "User",
			Created:      created,
			// Milliseconds at both ends of their range.
			LastModified: created.Add(time.Duration(48+variant)*time.Hour + 876*time.Millisecond),
		},
	}
	return u
}

// fullUser is rawFullUser as the handler gives it to a Store of the declaration: declared attributes only,
// the host's extension attributes assigned, and a password hash if the Store keeps them.
func (c *config) fullUser(id, userName string, variant int) *scim.User {
	u := c.withExt(rawFullUser(id, userName, variant), 100+variant)
	u.PasswordHash = []string{
		"$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
		"$2a$10$7EqJtq98hPqEX7fNZaFWoOhi5BWX4Z8RpHdYAXx7VwnGJ4nT7e3nq",
	}[variant]
	return c.declared(u)
}

// minimalUser is rawMinimalUser as the handler gives it to a Store of the declaration.
func (c *config) minimalUser(id, userName string) *scim.User {
	return c.declared(rawMinimalUser(id, userName))
}

// rawMinimalUser returns a user with only what the handler always sets: id, userName and meta.
func rawMinimalUser(id, userName string) *scim.User {
	return &scim.User{ID: id, UserName: userName, Meta: scim.Meta{ResourceType: "User", Created: t0, LastModified: t0}}
}

// The population: users built so that every filter operator on every filterable attribute type has users
// that match and users that do not, including unassigned values, values differing only in case, ties for
// sorting, several elements in emails, LIKE wildcards and non-ASCII letters. IDs have capitals, for
// the caseExact id.
const popCount = 13

// population is rawPopulation as the handler gives it to a Store of the declaration, the host's extension
// attributes assigned to most users.
func (c *config) population(prefix string) []*scim.User {
	users := rawPopulation(prefix)
	for i, u := range users {
		users[i] = c.declared(c.withExt(u, i))
	}
	return users
}

// rawPopulation returns the population's users in creation order, with ids prefixed by prefix (one tenant
// gets "", the look-alike tenant "b-", so that ids never collide across tenants).
func rawPopulation(prefix string) []*scim.User {
	type u = scim.User
	id := func(s string) string { return prefix + s }
	mk := func(x *u, created, modified time.Duration) *scim.User {
		x.Meta = scim.Meta{ResourceType: "User", Created: at(created), LastModified: at(modified)}
		return x
	}
	h := time.Hour
	ms := time.Millisecond
	return []*scim.User{
		mk(&u{
			ID: id("Ada-01"), UserName: "ada.lovelace@example.com", ExternalID: "EXT-1", DisplayName: "Ada Lovelace",
			Name: &scim.Name{Formatted: "Ada Lovelace", GivenName: "Ada", FamilyName: "Lovelace"}, Active: ptr(true),
			Emails: []scim.MultiValue{
				{Value: "ada@work.example.com", Type: "work", Primary: true},
				{Value: "ada@home.example.org", Type: "home"},
			},
			Enterprise: &scim.EnterpriseUser{EmployeeNumber: "E100", Department: "Analytics",
				Manager: &scim.Manager{Value: id("Grace-02"), DisplayName: "Grace Hopper"}},
		}, 0, 48*h),
		mk(&u{
			ID: id("Grace-02"), UserName: "Grace.Hopper@Example.COM", ExternalID: "ext-2", DisplayName: "grace hopper",
			Name: &scim.Name{FamilyName: "Hopper"}, Active: ptr(false),
			Emails: []scim.MultiValue{
				{Value: "grace@home.example.com", Type: "home"},
				{Value: "GRACE@WORK.EXAMPLE.ORG", Type: "work", Primary: true},
			},
			Enterprise: &scim.EnterpriseUser{EmployeeNumber: "e200"},
		}, 0, 24*h),
		mk(&u{ID: id("alan-03"), UserName: "alan"}, h, h),
		mk(&u{
			ID: id("ALAN-04"), UserName: "Alan.Turing@example.com", ExternalID: "EXT-1", DisplayName: "Alan Turing",
			Name: &scim.Name{GivenName: "Alan", FamilyName: "Turing"}, Active: ptr(true),
			Emails: []scim.MultiValue{
				{Value: "alan@work.example.com", Type: "work"},
				{Value: "x-alan@example.net", Type: "other"},
			},
			Enterprise: &scim.EnterpriseUser{EmployeeNumber: "E300", Manager: &scim.Manager{Value: "Ada-01"}},
		}, 2*h, 2*h),
		mk(&u{
			ID: id("kat-05"), UserName: "katherine", DisplayName: "ADA LOVELACE",
			Name: &scim.Name{GivenName: "Katherine"}, Active: ptr(false),
			Emails:     []scim.MultiValue{{Value: "kat@work.example.com", Type: "home"}},
			Enterprise: &scim.EnterpriseUser{Department: "Math"},
		}, 2*h, 72*h),
		mk(&u{
			ID: id("zed-06"), UserName: "Zed", ExternalID: "ext-6", DisplayName: "Zed",
			Name: &scim.Name{FamilyName: "lovelace"}, Active: ptr(true),
			Emails: []scim.MultiValue{
				{Value: "zed@example.com", Type: "work"},
				{Value: "z@work.example.com", Type: "home", Primary: true},
			},
			Enterprise: &scim.EnterpriseUser{EmployeeNumber: "e100", Manager: &scim.Manager{Value: "ada-01"}},
		}, 3*h, 3*h),
		mk(&u{
			ID: id("bob-07"), UserName: "bob@example.com", ExternalID: "EXT-7", DisplayName: "bob",
			Emails: []scim.MultiValue{{Value: "bob@example.com"}},
		}, ms, ms),
		mk(&u{
			ID: id("eve-08"), UserName: "Eve", DisplayName: "Eve", Name: &scim.Name{FamilyName: "Adams"}, Active: ptr(true),
			Emails: []scim.MultiValue{
				{Value: "eve@work.example.com", Type: "work"},
				{Value: "eve.adams@example.org", Type: "work"},
			},
		}, -ms, 5*h),
		mk(&u{ID: id("pct-09"), UserName: "100%_sure@example.com", DisplayName: "50% off_"}, 4*h, 4*h),
		mk(&u{ID: id("und-10"), UserName: "under_score", DisplayName: "under_score"}, 4*h, 4*h),
		mk(&u{ID: id("bsl-11"), UserName: `back\slash`}, 5*h, 5*h),
		mk(&u{
			ID: id("eco-12"), UserName: "École@example.com", DisplayName: "école", Name: &scim.Name{FamilyName: "Été"},
		}, 6*h, 6*h),
		mk(&u{
			ID: id("Hal-13"), UserName: "hal9000", ExternalID: "hal", DisplayName: "HAL 9000",
			Name: &scim.Name{Formatted: "HAL 9000"}, Active: ptr(false),
			Emails:     []scim.MultiValue{{Value: "hal@work.example.com", Type: "work", Primary: true}},
			Enterprise: &scim.EnterpriseUser{EmployeeNumber: "9000", CostCenter: "CC"},
		}, 7*h, 7*h),
	}
}

// fixture returns a fresh copy of the population's user with the fixture id (tenantA's, or tenantB's with
// "b-").
func (c *config) fixture(id string) *scim.User {
	prefix := ""
	if strings.HasPrefix(id, "b-") {
		prefix = "b-"
	}
	for _, u := range c.population(prefix) {
		if u.ID == id {
			return u
		}
	}
	panic("scimtest: no fixture " + id)
}
