package patch

import (
	"errors"
	"fmt"
	"strings"

	"github.com/scimkit/scim/filter"
	"github.com/scimkit/scim/internal/echo"
	"github.com/scimkit/scim/schema"
)

// PATCH is applied by the library to the canonical document of the resource it read; the result replaces the
// resource only if every operation succeeded (all or nothing), and only with the version that was read (the
// scim package's update). No Store implements PATCH.
//
// Beyond the RFC it accepts what Microsoft Entra ID sends: op names in any case, string booleans,
// path-less values whose keys are paths ("name.formatted", "urn:...:User:employeeNumber"), and add or
// replace on a value-filtered path that matches nothing, which creates the element the filter describes
// (emails[type eq "work"].value).

// Request is the PatchOp message; encoding/json matches "Operations" and "op" without case.
type Request struct {
	Schemas    []string `json:"schemas"`
	Operations []Op     `json:"Operations"`
}

// Op is one operation of a PatchOp message.
type Op struct {
	Op    string `json:"op"`
	Path  string `json:"path"`
	Value any    `json:"value"`
}

// Operation is an Op resolved against the resource type: Parse's result, Apply's input.
type Operation struct {
	op    string // add, replace or remove
	path  *filter.PatchPath
	value any
}

// Parse validates the whole request before anything is applied. An Operation whose path names an
// attribute outside the declared schema (a standard attribute the host does not keep, or one of an
// extension it did not declare) is dropped and its path reported to ignored, as POST ignores such
// attributes: an identity provider mapping an attribute the app does not keep must not fail every update.
// A path that names no attribute of any schema the provider knows stays an invalidPath error.
func Parse(rt, full *schema.ResourceType, req Request, maxOps int, ignored func(string)) ([]Operation, error) {
	if req.Operations == nil {
		return nil, fail(invalidSyntax, `a PatchOp needs "Operations"`)
	}
	if len(req.Operations) > maxOps {
		return nil, fail(invalidValue, fmt.Sprintf("at most %d operations per request", maxOps))
	}
	ops := make([]Operation, 0, len(req.Operations))
	units := 0
	for i, o := range req.Operations {
		op := Operation{op: strings.ToLower(o.Op), value: o.Value}
		if op.op != "add" && op.op != "replace" && op.op != "remove" {
			return nil, fail(invalidSyntax, fmt.Sprintf(`Operation %d: op must be "add", "replace" or "remove"`, i+1))
		}
		if o.Path != "" {
			p, err := filter.ParsePath(rt, o.Path)
			if errors.Is(err, filter.ErrUnknownAttribute) {
				if q, ok := inOneExtension(rt, o.Path); ok {
					p, err = q, nil
				}
			}
			if errors.Is(err, filter.ErrUnknownAttribute) && outside(rt, full, o.Path) {
				ignored(o.Path)
				continue
			}
			if err != nil {
				return nil, err
			}
			if t := p.Path.Target(); t != nil && t.Mutability == schema.ReadOnly {
				return nil, fail(mutability, echo.Clip(p.String())+" is read-only")
			}
			op.path = &p
		} else if op.op == "remove" {
			return nil, fail(noTarget, fmt.Sprintf("Operation %d: remove needs a path", i+1))
		}
		// Path-less, or a whole extension: an object of attributes (a remove of a whole extension needs none).
		if (op.path == nil || op.path.Path.Attr == nil) && op.op != "remove" {
			if _, ok := op.value.(map[string]any); !ok {
				return nil, fail(invalidValue, fmt.Sprintf("Operation %d: the value must be an object of attributes", i+1))
			}
		}
		ops = append(ops, op)
		// Each key of a path-less (or whole-extension) value is an Operation of its own: it is applied as
		// one, so it counts toward the limit as one.
		if m, ok := op.value.(map[string]any); ok && (op.path == nil || op.path.Path.Attr == nil) {
			units += len(m) - 1
			for _, v := range m {
				if ext, ok := v.(map[string]any); ok { // {"urn:...:User": {...}}: its keys, too
					units += len(ext)
				}
			}
		}
		if units += 1; units > maxOps {
			return nil, fail(invalidValue, fmt.Sprintf("at most %d operations per request (path-less keys count as one each)", maxOps))
		}
	}
	return ops, nil
}

// inOneExtension resolves a path without a URN that names no core attribute against the extensions: Entra
// ID's documented PATCH of the manager uses the bare path "manager". Exactly one extension must have it.
func inOneExtension(rt *schema.ResourceType, path string) (filter.PatchPath, bool) {
	if strings.HasPrefix(strings.ToLower(path), "urn:") {
		return filter.PatchPath{}, false
	}
	var found []filter.PatchPath
	for _, e := range rt.Extensions {
		if p, err := filter.ParsePath(rt, e.Schema.ID+":"+path); err == nil {
			found = append(found, p)
		}
	}
	if len(found) != 1 {
		return filter.PatchPath{}, false
	}
	return found[0], true
}

// ClearsPassword reports whether the last Operation of ops that names the password unassigns it: a remove,
// or a value of null or "" (with a path, or as a key of a path-less value). The password is write-only, so
// the document a PATCH works on never holds it: this is how a PATCH that clears it is told from one that
// leaves it alone.
func ClearsPassword(ops []Operation) bool {
	clears := false
	for _, op := range ops {
		var v any
		switch {
		case op.path != nil && op.path.Path.Attr != nil:
			if op.path.Path.Extension() || !strings.EqualFold(op.path.Path.Attr.Name, "password") {
				continue
			}
			v = op.value
		case op.path == nil:
			m, _ := op.value.(map[string]any)
			found := false
			for k, x := range m {
				if strings.EqualFold(k, "password") {
					v, found = x, true
				}
			}
			if !found {
				continue
			}
		default:
			continue
		}
		s, _ := v.(string)
		clears = op.op == "remove" || v == nil || s == ""
	}
	return clears
}

// outside reports whether path, which names no attribute of rt, names one of the full core or enterprise
// User schema that rt leaves out, or an attribute of an extension schema rt does not have.
func outside(rt, full *schema.ResourceType, path string) bool {
	if _, err := filter.ParsePath(full, path); err == nil {
		return true
	}
	lower := strings.ToLower(path)
	if !strings.HasPrefix(lower, "urn:") || strings.HasPrefix(lower, "urn:ietf:params:scim:schemas:core:") ||
		strings.HasPrefix(lower, "urn:ietf:params:scim:api:") {
		return false // not an extension: a core schema of another resource type, or a message
	}
	for _, s := range append(rt.Schemas(), full.Schemas()...) {
		if len(path) > len(s.ID) && strings.EqualFold(path[:len(s.ID)], s.ID) && path[len(s.ID)] == ':' {
			return false // a schema the provider has: the attribute is simply unknown
		}
	}
	return true
}

// Error is a PatchOp the client got wrong: 400 with the scimType Type (RFC 7644 Table 9).
type Error struct {
	Type, Detail string
}

func (e *Error) Error() string { return e.Detail }

// The scimTypes of RFC 7644 Table 9 this package answers.
const (
	invalidSyntax = "invalidSyntax"
	invalidValue  = "invalidValue"
	noTarget      = "noTarget"
	mutability    = "mutability"
)

func fail(scimType, detail string) *Error { return &Error{Type: scimType, Detail: detail} }
