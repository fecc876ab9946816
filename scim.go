// Package scim is an embeddable SCIM 2.0 server (RFC 7643, RFC 7644) for the Users and Groups resources,
// made for the SaaS app whose customers provision their people from Microsoft Entra ID, Okta or any other
// SCIM client.
//
// The host app declares what its users keep (schema.DeclareUser, WithUserSchema), implements a small Store
// over its own database (or uses memstore), creates a handler with New (or MustNew, which panics on a
// configuration mistake such as an empty token) and mounts it next to its own routes:
//
//	h, err := scim.New(store, scim.WithTokens(os.Getenv("SCIM_TOKEN")))
//	if err != nil {
//		log.Fatal(err) // SCIM_TOKEN unset, say
//	}
//	mux.Handle("/scim/v2/", http.StripPrefix("/scim/v2", h))
//
// Every bound on a request (body and page sizes, PATCH operations, scans, work, time, per-tenant limits) is a
// field of one Limits value given with WithLimits: zero is the default, NoLimit turns a bound off.
//
// The handler speaks the protocol: authentication, filters, sorting, paging, projection, PATCH, ETags,
// discovery and SCIM errors, with the tolerances real identity providers need (string booleans, op names in
// any case, dotted PATCH keys). The Store only persists users (and, as an optional GroupStore, groups) and
// enforces what only it can enforce atomically: uniqueness and versions.
//
// The guides are in the repository's docs directory: [mounting and options], [tenancy], [declaring the
// schema], [implementing a Store] (and checking it with package scimtest), [the SQL stores], [groups],
// [events], [observability], [limits], configuring [Entra ID] and [Okta], and the [design notes].
//
// [mounting and options]: https://github.com/scimkit/scim/blob/main/docs/options.md
// [tenancy]: https://github.com/scimkit/scim/blob/main/docs/tenancy.md
// [declaring the schema]: https://github.com/scimkit/scim/blob/main/docs/schema.md
// [implementing a Store]: https://github.com/scimkit/scim/blob/main/docs/stores.md
// [the SQL stores]: https://github.com/scimkit/scim/blob/main/docs/sqlstore.md
// [groups]: https://github.com/scimkit/scim/blob/main/docs/groups.md
// [events]: https://github.com/scimkit/scim/blob/main/docs/events.md
// [observability]: https://github.com/scimkit/scim/blob/main/docs/observability.md
// [limits]: https://github.com/scimkit/scim/blob/main/docs/limits.md
// [Entra ID]: https://github.com/scimkit/scim/blob/main/docs/entra.md
// [Okta]: https://github.com/scimkit/scim/blob/main/docs/okta.md
// [design notes]: https://github.com/scimkit/scim/blob/main/docs/design.md
package scim

import (
	"crypto/rand"
	"crypto/sha256"
	"database/sql/driver"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/scimkit/scim/schema"
)

// User is a SCIM User resource: the RFC 7643 §4.1 core schema and the §4.3 enterprise extension. Its JSON
// form is the canonical SCIM representation. An empty string or nil means the attribute is unassigned.
type User struct {
	// Schemas lists the schema URNs the resource uses. The handler derives it from the content on output.
	Schemas           []string `json:"schemas,omitempty"`
	ID                string   `json:"id,omitempty"`
	ExternalID        string   `json:"externalId,omitempty"`
	UserName          string   `json:"userName,omitempty"`
	Name              *Name    `json:"name,omitempty"`
	DisplayName       string   `json:"displayName,omitempty"`
	NickName          string   `json:"nickName,omitempty"`
	ProfileURL        string   `json:"profileUrl,omitempty"`
	Title             string   `json:"title,omitempty"`
	UserType          string   `json:"userType,omitempty"`
	PreferredLanguage string   `json:"preferredLanguage,omitempty"`
	Locale            string   `json:"locale,omitempty"`
	Timezone          string   `json:"timezone,omitempty"`
	Active            *bool    `json:"active,omitempty"`
	// PasswordHash is the user's password as a slow salted hash (bcrypt), set only when the handler accepts
	// passwords (WithPasswords(PasswordsHashed)); the plaintext never reaches a Store. It is not part of
	// the JSON form, so it never reaches a search copy, an outbox, an event or a log; a Store keeps it in a
	// column of its own, and the host checks a sign-in with CheckPassword.
	PasswordHash     string          `json:"-"`
	Emails           []MultiValue    `json:"emails,omitempty"`
	PhoneNumbers     []MultiValue    `json:"phoneNumbers,omitempty"`
	IMs              []MultiValue    `json:"ims,omitempty"`
	Photos           []MultiValue    `json:"photos,omitempty"`
	Addresses        []Address       `json:"addresses,omitempty"`
	Groups           []GroupRef      `json:"groups,omitempty"`
	Entitlements     []MultiValue    `json:"entitlements,omitempty"`
	Roles            []MultiValue    `json:"roles,omitempty"`
	X509Certificates []MultiValue    `json:"x509Certificates,omitempty"`
	Enterprise       *EnterpriseUser `json:"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User,omitempty"`
	Meta             Meta            `json:"meta,omitzero"`
	// Extensions holds the attributes of the host's own extension schemas (schema.UserDeclaration), by
	// schema URN, in their canonical JSON form. Read and write them with ExtensionAttr rather than by hand.
	// In JSON each extension is an object under its URN, as RFC 7643 §3.3 has it.
	Extensions map[string]Attributes `json:"-"`
}

// IsActive reports the user's active flag; an unassigned flag counts as active, as SCIM clients assume.
func (u *User) IsActive() bool { return u.Active == nil || *u.Active }

// Name is the components of a user's name (RFC 7643 §4.1.1).
type Name struct {
	Formatted       string `json:"formatted,omitempty"`
	FamilyName      string `json:"familyName,omitempty"`
	GivenName       string `json:"givenName,omitempty"`
	MiddleName      string `json:"middleName,omitempty"`
	HonorificPrefix string `json:"honorificPrefix,omitempty"`
	HonorificSuffix string `json:"honorificSuffix,omitempty"`
}

// MultiValue is one value of the multi-valued attributes that share the sub-attributes value, display, type
// and primary: emails, phoneNumbers, ims, photos, entitlements, roles and x509Certificates (RFC 7643 §2.4).
// The seven share one type, with no per-attribute names: they have the same shape, so a named type for each
// would only add conversions, and a name for one of them alone (there was an Email) suggested a difference
// that does not exist.
type MultiValue struct {
	Value   string `json:"value,omitempty"`
	Display string `json:"display,omitempty"`
	Type    string `json:"type,omitempty"`
	Primary bool   `json:"primary,omitempty"`
}

// Address is one of a user's physical mailing addresses (RFC 7643 §4.1.2).
type Address struct {
	Formatted     string `json:"formatted,omitempty"`
	StreetAddress string `json:"streetAddress,omitempty"`
	Locality      string `json:"locality,omitempty"`
	Region        string `json:"region,omitempty"`
	PostalCode    string `json:"postalCode,omitempty"`
	Country       string `json:"country,omitempty"`
	Type          string `json:"type,omitempty"`
	Primary       bool   `json:"primary,omitempty"`
}

// GroupRef is a group the user belongs to. It is read-only: clients change membership through the group.
type GroupRef struct {
	Value   string `json:"value,omitempty"`
	Ref     string `json:"$ref,omitempty"`
	Display string `json:"display,omitempty"`
	Type    string `json:"type,omitempty"`
}

// EnterpriseUser is the enterprise User extension (RFC 7643 §4.3).
type EnterpriseUser struct {
	EmployeeNumber string   `json:"employeeNumber,omitempty"`
	CostCenter     string   `json:"costCenter,omitempty"`
	Organization   string   `json:"organization,omitempty"`
	Division       string   `json:"division,omitempty"`
	Department     string   `json:"department,omitempty"`
	Manager        *Manager `json:"manager,omitempty"`
}

// Manager is the user's manager: another user of the same service provider.
type Manager struct {
	Value       string `json:"value,omitempty"`
	Ref         string `json:"$ref,omitempty"`
	DisplayName string `json:"displayName,omitempty"`
}

// Meta is the resource's metadata (RFC 7643 §3.1). The handler sets Created and LastModified before it
// gives a resource to the Store, which keeps them; the Store sets Version, an opaque string that changes
// with every write. ResourceType and Location are the handler's alone: it fills them on every answer, so a
// Store need not keep them (a Store may return them empty; scimtest ignores them).
type Meta struct {
	ResourceType string    `json:"resourceType,omitempty"`
	Created      time.Time `json:"created,omitzero"`
	LastModified time.Time `json:"lastModified,omitzero"`
	Location     string    `json:"location,omitempty"`
	Version      string    `json:"version,omitempty"`
}

// userType is the User resource type of a handler without WithUserSchema: built once, never modified.
var userType = schema.User()

// HashToken returns the hash a host stores in place of a SCIM token: SHA-256. Tokens from MintToken carry
// 256 random bits, so a fast hash is enough; a password hash would only slow every request down. A
// multi-tenant host looks the hash up in its accounts table in its authenticator (WithAuthenticator),
// passing it to the database as it is (its Value is the hex text; h[:] the raw bytes for a binary column).
func HashToken(token string) TokenHash {
	return sha256.Sum256([]byte(token))
}

// TokenHash is a SCIM token's SHA-256 (HashToken). Its text form, the one WithTokenHashes takes, is 64
// lower-case hex digits; it is a database/sql value and scanner of that form, so that a GORM or
// database/sql model keeps it in a text column as a field of this type, and a binary column gets h[:].
type TokenHash [sha256.Size]byte

// String returns the hash as 64 lower-case hex digits.
func (h TokenHash) String() string { return hex.EncodeToString(h[:]) }

// Value implements driver.Valuer: the hex text.
func (h TokenHash) Value() (driver.Value, error) { return h.String(), nil }

// Scan implements sql.Scanner: the hex text (string or bytes), or the 32 raw bytes of a binary column.
func (h *TokenHash) Scan(src any) error {
	var b []byte
	switch v := src.(type) {
	case string:
		b = []byte(v)
	case []byte:
		if len(v) == sha256.Size {
			copy(h[:], v)
			return nil
		}
		b = v
	default:
		return fmt.Errorf("scim: cannot scan %T into a TokenHash", src)
	}
	if hex.DecodedLen(len(b)) != sha256.Size {
		return fmt.Errorf("scim: a TokenHash is %d hex digits, not %d bytes", 2*sha256.Size, len(b))
	}
	_, err := hex.Decode(h[:], b)
	return err
}

// MintToken returns a new random token (256 bits, URL-safe base64: what an admin pastes into Entra ID as the
// Secret Token, shown to them once) and the hash to store (HashToken).
func MintToken() (token string, hash TokenHash) {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	token = base64.RawURLEncoding.EncodeToString(b[:])
	return token, HashToken(token)
}

// ErrUnauthorized is what an authenticator returns for missing or wrong credentials.
var ErrUnauthorized = errors.New("scim: unauthorized")

// BearerToken returns the token of an "Authorization: Bearer <token>" header (scheme without case).
func BearerToken(r *http.Request) (string, bool) {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	tok = strings.TrimSpace(tok)
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return "", false
	}
	return tok, true
}
