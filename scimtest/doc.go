// Package scimtest checks that a scim.Store behaves as the handler needs, the way testing/fstest.TestFS
// checks an fs.FS: run TestStore from a test of your Store and read the failures, each of which names the
// method, what it was given, what it returned and what was expected.
//
//	func TestMyStore(t *testing.T) {
//		scimtest.TestStore(t, func(t *testing.T) scim.Store {
//			db := openEmptyTestDatabase(t) // a fresh, empty store for every subtest
//			return mystore.New(db)
//		})
//	}
//
// A host that declared its User resource (schema.DeclareUser), names its tenants itself or lets its Store
// assign ids says so with Options:
//
//	scimtest.TestStore(t, newStore, scimtest.Options{Schema: rt, Tenants: [2]string{"1", "2"},
//		Defaults: map[string]any{"active": true}})
//
// Before the requirements, a preflight checks the basic contract (Create returns an ID, kept or the Store's
// own, and a version; Get finds the user by that ID with its times to the millisecond; Replace changes the
// version; List returns the user) and stops the run with one message when it fails.
//
// What a Store must do, one subtest per requirement:
//
//   - round trip: Create, Get, Replace and List return every declared attribute of scim.User as given (core,
//     enterprise and the host's extensions, every sub-attribute, multi-valued attributes with several
//     elements in order, active=false, meta times exactly and in UTC, the password hash with
//     Options.Passwords); what a Replace leaves unassigned becomes unassigned (or its Options.Defaults
//     value); users returned earlier never change afterwards.
//   - versions: Create sets Meta.Version; every Replace sets a new one; a stale version gives
//     scim.ErrVersionMismatch and changes nothing; "" means any version.
//   - not found: unknown or deleted ids (malformed ones too, for a Store with integer ids) give
//     scim.ErrNotFound from Get, Replace and Delete; a deleted user's id is never given again.
//   - userName uniqueness: within a tenant, by filter.Fold's key (case folded fully, compatibility forms,
//     NFC/NFD and surrounding spaces identified, and no more; userName eq agrees), on Create and on Replace;
//     a user may change the case of its own userName; a freed userName can be taken.
//   - tenants: the same userName in another tenant is fine; no method ever sees another tenant's user.
//   - filter: every operator (eq ne co sw ew gt ge lt le pr) with and, or, not, grouping and value filters,
//     on strings with and without caseExact, booleans, dateTimes, multi-valued and extension attributes, as
//     scim.ApplyQuery answers them over the same users (and, for a set of filters, as the kit states).
//   - sort: every attribute type both ways, unassigned values last ascending and first descending, ties in
//     the Store's unsorted List order.
//   - pagination: startIndex and count edges (below 1 means 1; count 0 asks for TotalResults alone; Users
//     may then be nil or empty), TotalResults independent of the page, an unsorted order that is stable
//     (repeated Lists, pages, Replaces) so pages have no duplicates and no gaps.
//   - cursor pagination, when the Store implements scim.CursorLister: pages return every match once in
//     List order, NextCursor "" on the last, scim.ErrInvalidCursor for a cursor the Store did not make, and
//     no duplicates or skipped users while users are created, replaced and deleted between pages. Skipped
//     for a Store without it.
//   - concurrency: of 64 parallel Creates of one userName (in different cases), or 64 Replaces with one
//     version, or 64 renames to one userName, exactly one succeeds; List, ListCursor and Get answer while
//     users are written. Run the kit with -race.
//   - context: with a cancelled context every method fails and changes nothing.
//   - groups, when the Store is a scim.GroupStore: displayName, externalId, meta and members round-trip;
//     UpdateGroup applies membership deltas (adding a member twice or removing a non-member changes
//     nothing; adding and removing K members of a group of 300 changes exactly those K); an update that
//     changes nothing keeps the version and lastModified, one that changes members (with no Group given)
//     moves both; member ids compare exactly (members.value is caseExact); displayName is
//     unique per tenant without case (scim.ErrConflict); an id that is no user of the tenant (a group's id,
//     another tenant's user, a deleted user) gives a *scim.UnknownMemberError naming it and changes nothing;
//     tenants are isolated; stale versions give scim.ErrVersionMismatch; deleting a user or a group removes
//     its memberships; members above GroupRead.MaxMembers are omitted (MembersOmitted), never sent in part;
//     ListGroups filters by displayName (without case), externalId, id and members; 50 parallel
//     single-member adds to one group keep all 50; GroupsOf returns each user's groups (type "direct" or
//     none), and members have type "User" or none; for a scim.GroupFilterer, List pages a group's members
//     (groups.value eq, startIndex and count) with the exact TotalResults. Skipped for a Store without the
//     capability.
//
// Expected answers are computed with scim.ApplyQuery, the library's reference implementation of List, over
// the kit's own copies of the users it created, cut down to the declaration, with the ids the Store assigned.
// Filters and sortBy paths are resolved against Options.Schema (or a fresh schema.User()), and skipped when
// they name an undeclared attribute: a Store must map attributes by name (schema.Path.String), never by
// pointer.
//
// examples/store in this module is the simplest Store that passes: a mutex, a slice and scim.ApplyQuery. The
// guide to writing a Store, with a worked one over an existing table, is [docs/stores.md].
//
// Subtests run one after the other, each with a fresh Store from newStore, which is given the subtest's t
// (for t.Cleanup); newStore may empty one shared database rather than create a new one. The checks use
// the tenants "scimtest-a", "scimtest-b" and "", or the two of Options.Tenants.
//
// TestHandler is the second runner, in testing/slogtest.Run's shape: it serves the Store through a
// scim.Handler and checks every protocol requirement of RFC 7643, RFC 7644, RFC 9865 and RFC 6750 the library
// meets black-box through HTTP (one named check per requirement; HandlerRequirements lists them), the paging of
// a group's members and the filters on groups among them when the Store is a scim.GroupStore. The library
// runs it over memstore and over sqlstore on SQLite and PostgreSQL; a host runs it over its own Store to
// see the whole protocol work over it:
//
//	func TestMyStoreOverHTTP(t *testing.T) {
//		scimtest.TestHandler(t, func(t *testing.T) scim.Store { return mystore.New(openEmptyTestDatabase(t)) })
//	}
//
// [docs/stores.md]: https://github.com/scimkit/scim/blob/main/docs/stores.md
package scimtest
