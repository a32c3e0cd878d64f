package config

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// MasterKeySize is the length of the master key in bytes (AES-256).
const MasterKeySize = 32

// ErrNoMasterKey is returned by MasterKeyBytes in development mode, when no
// master key is configured.
var ErrNoMasterKey = errors.New("config: no master key configured")

// MasterKeyBytes decodes the master key. It returns ErrNoMasterKey when
// none is set (see DevelopmentMode). The error never contains the key.
func (c *Config) MasterKeyBytes() ([]byte, error) {
	if c.MasterKey == "" {
		return nil, ErrNoMasterKey
	}
	key, err := decodeMasterKey(c.MasterKey.Reveal())
	if err != nil {
		return nil, fmt.Errorf("config: master_key: %w", err)
	}
	return key, nil
}

// decodeMasterKey accepts hex (an even number of hex digits, 64 for a
// valid key) and base64 in any of its four spellings, standard or
// URL-safe, padded or not. Surrounding whitespace, such as the newline a
// key file ends with, is ignored.
func decodeMasterKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	key, ok := decodeKeyText(s)
	if !ok {
		return nil, fmt.Errorf("must be %d bytes (base64 or hex), got text that is neither", MasterKeySize)
	}
	if len(key) != MasterKeySize {
		return nil, fmt.Errorf("must be %d bytes (base64 or hex), got %d", MasterKeySize, len(key))
	}
	return key, nil
}

func decodeKeyText(s string) ([]byte, bool) {
	// Hex first: every hex string is also base64, but a 64-digit string
	// of hex digits is far more likely to be `openssl rand -hex 32`.
	if b, err := hex.DecodeString(s); err == nil {
		return b, true
	}
	for _, enc := range []*base64.Encoding{
		base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding,
	} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, true
		}
	}
	return nil, false
}
