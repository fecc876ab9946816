package scim

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/scimkit/scim/internal/project"
	"github.com/scimkit/scim/schema"
)

// TestAppendCanonicalIsEncodingJSON: the declared resources' encoder writes what encoding/json writes for
// canonical values, escapes and key order included, and falls back to it for anything else.
func TestAppendCanonicalIsEncodingJSON(t *testing.T) {
	for _, v := range []any{
		nil, "", "a<b>&\"\\\u2028\x01é", true, json.Number("-1.5e3"), []any{},
		map[string]any{"z": 1.5, "a": []any{map[string]any{"y": nil, "b": false}}, "<k>": json.Number("7"), "": "x"},
		map[string]any{"k0": 0, "k1": 1, "k2": 2, "k3": 3, "k4": 4, "k5": 5, "k6": 6, "k7": 7, "k8": 8, "k9": 9,
			"k10": 10, "k11": 11, "k12": 12, "k13": 13, "k14": 14, "k15": 15, "k16": 16, "k17": 17},
		"\xff invalid UTF-8",
	} {
		want, err := json.Marshal(v)
		require.NoError(t, err)
		got, err := appendCanonical(nil, v)
		require.NoError(t, err)
		require.Equal(t, string(want), string(got))
	}
	_, err := appendCanonical(nil, json.Number("not a number"))
	require.Error(t, err)
}

// TestAppendDocIsRenderDoc: the fast writer of a declared resource writes what encoding renderDoc's map
// gives, meta included, under the default projection and a projection of meta's parts.
func TestAppendDocIsRenderDoc(t *testing.T) {
	rt := schema.MustDeclare(schema.ResourceDeclaration{Name: "Thing", Schema: &schema.Schema{ID: "urn:example:Thing",
		Attributes: []*schema.Attribute{{Name: "label", Type: schema.String}, {Name: "n", Type: schema.Integer}}}})
	d, err := newDeclared(Resource{Type: rt}, userType)
	require.NoError(t, err)
	now := time.Date(2026, 12, 4, 10, 0, 0, 123000000, time.UTC)
	doc := &Document{ID: "t1", Attributes: map[string]any{"label": "a<b", "n": json.Number("3"), "externalId": "x"},
		Meta: Meta{Created: now, LastModified: now.Add(time.Second), Version: "7"}}
	h := &handler{}
	for _, proj := range []project.Projection{{}, project.Parse(rt, []string{"meta.version", "label"}, nil), project.Parse(rt, nil, []string{"meta"})} {
		want, err := json.Marshal(h.renderDoc("https://x/scim", d, doc, proj))
		require.NoError(t, err)
		got, err := h.appendDoc(nil, "https://x/scim", d, doc, proj)
		require.NoError(t, err)
		var w, g map[string]any
		require.NoError(t, json.Unmarshal(want, &w))
		require.NoError(t, json.Unmarshal(got, &g))
		require.Equal(t, w, g)
	}
}
