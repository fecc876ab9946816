package sqlstore

// FiltersGroups implements scim.GroupFilterer: List and ListCursor answer filters and sortBy on the users'
// groups themselves, over the membership table (groups.value eq "…" as a subquery, anything else with each
// user's groups filled in), so the handler hands them such queries as they are.
func (s *Store) FiltersGroups() bool { return true }
