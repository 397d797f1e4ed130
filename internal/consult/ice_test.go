package consult

import (
	"testing"
	"time"
)

// The coturn use-auth-secret scheme, checked against a credential computed
// independently (printf '1700043200:dr.alpha' | openssl dgst -sha1 -hmac
// north-secret -binary | base64).
func TestTURNCredential(t *testing.T) {
	exp := time.Unix(1700043200, 0)
	name, cred := TURNCredential("north-secret", "dr.alpha", exp)
	if name != "1700043200:dr.alpha" || cred != "V/dEhGt2kuOMOeiQ+Kgb5CbTRx0=" {
		t.Fatalf("got %s %s", name, cred)
	}
	now := time.Unix(1700000000, 0)
	ice := ICE{URLs: []string{"stun:stun.example.org:3478", "turn:turn.example.org:3478?transport=udp", "turns:turn.example.org:5349"}, TURNSecret: "north-secret", TURNTTL: 12 * time.Hour}
	got := ice.Servers("dr.alpha", now)
	if len(got) != 2 || got[0].Username != "" || len(got[1].URLs) != 2 {
		t.Fatalf("servers: %+v", got)
	}
	if got[1].Username != "1700043200:dr.alpha" || got[1].Credential != cred {
		t.Fatalf("TURN entry: %+v", got[1])
	}
	// Without a secret the URLs pass as configured, with no credential.
	if got := (ICE{URLs: ice.URLs}).Servers("dr.alpha", now); len(got) != 3 || got[1].Credential != "" {
		t.Fatalf("no secret: %+v", got)
	}
}
