package scim

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"fmt"
)

// CursorSealer turns a Store's position (a creation sequence number, say) into the opaque cursor of RFC 9865
// for one tenant, and back. Cursors are sealed with AES-GCM, the tenant bound in as additional data: a client
// can neither read a position (numbers shared by all tenants would tell one tenant how many users the others
// create) nor forge one, and a cursor given to one tenant is invalid in every other.
type CursorSealer struct{ aead cipher.AEAD }

// NewCursorSealer returns a sealer with key (16, 24 or 32 bytes). Replicas that serve the same clients must
// share the key; a Store keeps it where it keeps its data.
func NewCursorSealer(key []byte) (*CursorSealer, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("scim: cursor key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &CursorSealer{aead: aead}, nil
}

// NewCursorKey returns a random key for NewCursorSealer.
func NewCursorKey() []byte {
	key := make([]byte, 32)
	_, _ = rand.Read(key) // crypto/rand.Read never fails (Go 1.24+)
	return key
}

// Seal returns the cursor of position pos for tenant: URL-safe base64, as RFC 9865 allows only unreserved
// characters.
func (c *CursorSealer) Seal(tenant string, pos int64) string {
	nonce := make([]byte, c.aead.NonceSize(), c.aead.NonceSize()+8+c.aead.Overhead())
	_, _ = rand.Read(nonce)
	out := c.aead.Seal(nonce, nonce, binary.BigEndian.AppendUint64(nil, uint64(pos)), []byte(tenant))
	return base64.RawURLEncoding.EncodeToString(out)
}

// Open returns the position a cursor of Seal names for tenant, or ErrInvalidCursor.
func (c *CursorSealer) Open(tenant, cursor string) (int64, error) {
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	n := c.aead.NonceSize()
	if err != nil || len(b) < n {
		return 0, ErrInvalidCursor
	}
	plain, err := c.aead.Open(nil, b[:n], b[n:], []byte(tenant))
	if err != nil || len(plain) != 8 {
		return 0, ErrInvalidCursor
	}
	return int64(binary.BigEndian.Uint64(plain)), nil
}
