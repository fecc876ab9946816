package sqlstore

import (
	"fmt"

	"github.com/scimkit/scim/sqlstore/internal/sqlfilter"
)

// Dialect is the SQL a database speaks, which New needs to know of the *sql.DB it is given.
type Dialect int

// The dialects: PostgreSQL (numbered placeholders, jsonb) and SQLite (? placeholders, JSON text, 3.38 or later).
const (
	Postgres Dialect = Dialect(sqlfilter.Postgres)
	SQLite   Dialect = Dialect(sqlfilter.SQLite)
)

// String returns the dialect's name.
func (d Dialect) String() string {
	switch d {
	case Postgres:
		return "postgres"
	case SQLite:
		return "sqlite"
	}
	return fmt.Sprintf("Dialect(%d)", int(d))
}

// sql is the compiler's name of d.
func (d Dialect) sql() sqlfilter.Dialect { return sqlfilter.Dialect(d) }
