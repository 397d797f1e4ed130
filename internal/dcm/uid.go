package dcm

import (
	"crypto/rand"
	"crypto/sha256"
	"math/big"
)

// UIDs under the 2.25 root (ISO/IEC 9834-8, a UUID as one decimal integer)
// need no registered organisation root and cannot collide in practice.

// NewUID returns a random 2.25 UID.
func NewUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return uidFrom(b[:])
}

// DeterministicUID derives a 2.25 UID from a name, so a generator seeded the
// same way produces the same UIDs.
func DeterministicUID(name string) string {
	h := sha256.Sum256([]byte(name))
	return uidFrom(h[:16])
}

func uidFrom(b []byte) string {
	b[6] = b[6]&0x0f | 0x40 // version 4 layout
	b[8] = b[8]&0x3f | 0x80
	return "2.25." + new(big.Int).SetBytes(b).String()
}

// ImplementationClassUID identifies Lightbox in Part 10 meta headers and associations.
const ImplementationClassUID = "2.25.190160134432165378329734862915385271049"

// ImplementationVersionName is the short version label sent with the class UID.
const ImplementationVersionName = "LIGHTBOX_1"

// ValidUID reports whether s has the form of a UID (PS3.5 9.1: digits and
// dots, at most 64 characters), so backslash lists and junk are refused.
func ValidUID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if (s[i] < '0' || s[i] > '9') && s[i] != '.' {
			return false
		}
	}
	return true
}
