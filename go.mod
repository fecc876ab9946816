module github.com/scimkit/scim

// go 1.26.0 is the floor of what this module requires: golang.org/x/crypto v0.59.0, x/text v0.44.0 and
// x/time v0.16.0 each declare go 1.26.0 (elimity-com/scim and filter-parser declare 1.18, testify 1.17).
// Lowering it means older x/ modules; x/text's Unicode tables are part of filter.Fold's keys, which SQL
// stores keep, so that is a deliberate change of its own, not a side effect of a go line.
go 1.26.0

require (
	github.com/elimity-com/scim v0.0.0-20260728105928-2641426a1539
	github.com/scim2/filter-parser/v2 v2.3.1
	github.com/stretchr/testify v1.12.1
	golang.org/x/crypto v0.59.0
	golang.org/x/text v0.44.0
	golang.org/x/time v0.16.0
)

require (
	github.com/q-uint/parser v0.3.1 // indirect
	github.com/q-uint/xsd-datetime v1.0.0 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
)
