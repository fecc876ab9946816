package filter_test

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/scimkit/scim/filter"
	"github.com/scimkit/scim/schema"
)

func ExampleParse() {
	rt := schema.User()
	e, err := filter.Parse(rt, `USERNAME Eq "Jane@Contoso.com" and emails[type eq "work" and primary eq "True"]`)
	if err != nil {
		panic(err)
	}
	fmt.Println(filter.String(e))

	var user map[string]any
	_ = json.Unmarshal([]byte(`{"userName": "jane@contoso.com", "emails": [{"value": "jane@contoso.com", "type": "work", "primary": true}]}`), &user)
	fmt.Println(filter.Match(e, user))

	_, err = filter.Parse(rt, `userName regex "j.*"`)
	fmt.Println(errors.Is(err, filter.ErrInvalidFilter))
	// Output:
	// (userName eq "Jane@Contoso.com" and emails[(type eq "work" and primary eq true)])
	// true
	// true
}

func ExampleParsePath() {
	p, err := filter.ParsePath(schema.User(), `emails[type eq "work"].value`)
	if err != nil {
		panic(err)
	}
	fmt.Println(p.Path.Attr.Name, p.Path.Sub.Name, filter.String(p.Filter))
	// Output: emails value type eq "work"
}
