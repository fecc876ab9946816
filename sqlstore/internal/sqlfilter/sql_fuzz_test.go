package sqlfilter_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/scimkit/scim/filter"
	"github.com/scimkit/scim/sqlstore/internal/sqlfilter"
)

var sqlFuzzSeeds = []string{
	`userName eq "Jane@Contoso.com"`,
	`externalId eq "alice-Ext-1"`,
	`displayName eq "ÉRIC"`,
	`title ne "x"`,
	`title co "%"`,
	`title sw "a_"`,
	`title ew "É"`,
	`title gt "m" and title le "zzz"`,
	`title eq null`,
	`name.givenName pr`,
	`name[not (givenName eq "é")]`,
	`emails.value eq "A"`,
	`emails co "@"`,
	`emails[type eq "work" and primary eq true]`,
	`emails[not (value pr)]`,
	`photos[value sw "https" and type eq "work"]`,
	`groups[$ref pr or display eq "x"]`,
	`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "r&d"`,
	`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager eq "alice"`,
	`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager[value ne "x"]`,
	`active eq "False" or active pr`,
	`meta.created gt "2011-05-13T06:42:34.5+02:00"`,
	`meta.lastModified le "2011-05-13T04:42:34Z" and not (meta.created eq "2011-05-13T04:42:34Z")`,
	`meta.created co "T04"`,
	`loginCount ge 3 or score lt -1`,
	`luckyNumbers eq 7`,
	`tags ew "" or tags gt "a"`,
	`birthday sw "1981"`,
	`not (userType eq "Employee") and (emails[type eq "home"] or ims pr)`,
	`emails co "a" or title sw "b" or emails.display ew "c" or emails.type eq "work"`,
}

var sqlFuzzValues = []string{"ÉRIC", "a%b_c", "x\x00y", "", "İ", "O'Neil", "{}", "work", "\xff"}

// FuzzCompileSQLite compiles random filters with every mapping and requires SQLite to select exactly the users
// Match selects, among the test users and one made of the fuzzed value.
func FuzzCompileSQLite(f *testing.F) {
	for i, s := range sqlFuzzSeeds {
		f.Add(s, sqlFuzzValues[i%len(sqlFuzzValues)])
	}
	rt := sqlType()
	docs := testDocs(f)
	db := openSQLite(f, docs)
	maps := mappings(sqlfilter.SQLite)
	f.Fuzz(func(t *testing.T, in, value string) {
		e, err := filter.Parse(rt, in)
		if err != nil {
			return
		}
		u := map[string]any{"id": "fuzz", "userName": "fuzz:" + value,
			"meta": map[string]any{"created": "2011-05-13T06:42:34.5+02:00", "lastModified": "2011-05-13T04:42:34Z"}}
		if value != "" { // canonical documents hold no empty strings
			u["displayName"], u["title"], u["tags"] = value, value, []any{value}
			u["name"] = map[string]any{"givenName": value}
			u["emails"] = []any{map[string]any{"value": value, "type": value, "primary": true}, map[string]any{"value": "x"}}
			u["photos"] = []any{map[string]any{"value": value}}
			u[enterprise] = map[string]any{"department": value, "manager": map[string]any{"value": value}}
		}
		raw, err := json.Marshal(u)
		if err != nil {
			t.Fatal(err)
		}
		fuzzed := testDoc{id: "fuzz", raw: raw, doc: decodeNumbers(t, raw)}
		if _, err := db.Exec(`DELETE FROM scim_users WHERE id = 'fuzz'`); err != nil {
			t.Fatal(err)
		}
		insertDocs(t, db, false, "t1", []testDoc{fuzzed})
		all := append(docs[:len(docs):len(docs)], fuzzed)
		want := map[string]bool{}
		for _, d := range all {
			want[d.id] = filter.Match(e, d.doc)
		}
		for name, m := range maps {
			frag, args, err := m.Compile(e, 1)
			if errors.Is(err, sqlfilter.ErrUnsupported) {
				continue
			}
			if err != nil {
				t.Fatalf("%s: Compile(%q): %v", name, in, err)
			}
			got := sqlResults(t, db, false, "t1", []compiledFilter{{frag: frag, args: args}})[0]
			for _, d := range all {
				if got[d.id] != want[d.id] {
					t.Fatalf("mapping %s, filter %s\nSQL: %s\nargs: %q\n%s: SQL %v, Match %v: %s", name, in, frag, args,
						d.id, got[d.id], want[d.id], d.raw)
				}
			}
		}
	})
}
