package document

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestAppendKey: two values get equal keys exactly when encoding/json encodes them alike.
func TestAppendKey(t *testing.T) {
	values := []any{
		nil, "", "a", "1", `a"b`, "a:1", true, false, json.Number("1"), json.Number("1.0"), 1.0, float64(2),
		json.Number("2"), []any{}, []any{"a"}, []any{"a", "b"}, []any{"ab"}, []any{[]any{"a"}, "b"},
		map[string]any{}, map[string]any{"value": "a"}, map[string]any{"value": "a", "type": "work"},
		map[string]any{"type": "work", "value": "a"}, map[string]any{"value": "a:1"}, map[string]any{"value:a": "1"},
		map[string]any{"value": json.Number("1")}, map[string]any{"value": "1"}, map[string]any{"value": nil},
		map[string]any{"a": map[string]any{"b": true}}, map[string]any{"a": map[string]any{"b": "true"}},
	}
	for i, a := range values {
		for j, b := range values {
			ja, _ := json.Marshal(a)
			jb, _ := json.Marshal(b)
			ka, kb := AppendKey(nil, a), AppendKey(nil, b)
			require.Equal(t, string(ja) == string(jb), string(ka) == string(kb), "%d %s, %d %s", i, ja, j, jb)
		}
	}
}
