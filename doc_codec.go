package scim

import (
	"encoding/json"
	"slices"
	"strconv"
)

// appendCanonical appends the JSON of a canonical document value (map[string]any with its keys sorted,
// []any, string, bool, json.Number, nil) exactly as encoding/json writes it, without its reflection: a
// declared resource's answer costs what a user's does. Any other value (a float64 a host's Store set by
// hand) goes through encoding/json.
func appendCanonical(b []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case string:
		return appendString(b, x), nil
	case bool:
		return strconv.AppendBool(b, x), nil
	case json.Number:
		if _, err := strconv.ParseFloat(string(x), 64); err != nil || x == "" {
			break // encoding/json's error for an invalid number
		}
		return append(b, x...), nil
	case []any:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = appendCanonical(b, e); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	case map[string]any:
		var buf [16]string
		keys := buf[:0]
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(appendString(b, k), ':')
			var err error
			if b, err = appendCanonical(b, x[k]); err != nil {
				return nil, err
			}
		}
		return append(b, '}'), nil
	}
	j, err := json.Marshal(v)
	return append(b, j...), err
}
