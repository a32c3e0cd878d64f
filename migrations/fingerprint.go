package migrations

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
)

// Fingerprint is a hash of every migration file, names and contents, of
// both dialects. Two binaries with the same fingerprint build the same
// schema, so a database migrated by one can stand in for the other's
// (dbtest keeps migrated template databases under it).
func Fingerprint() string {
	h := sha256.New()
	// WalkDir visits in lexical order, so the hash does not depend on the
	// order the files were embedded in.
	err := fs.WalkDir(files, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(files, path)
		if err != nil {
			return err
		}
		h.Write([]byte(path))
		h.Write([]byte{0})
		h.Write(b)
		h.Write([]byte{0})
		return nil
	})
	if err != nil {
		// The files are embedded in the binary: reading them cannot fail.
		panic("migrations: read embedded files: " + err.Error())
	}
	return hex.EncodeToString(h.Sum(nil))
}
