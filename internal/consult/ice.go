package consult

import (
	"crypto/hmac"
	"crypto/sha1" // #nosec G505 -- the TURN REST scheme (coturn use-auth-secret) is defined over HMAC-SHA1
	"encoding/base64"
	"strconv"
	"strings"
	"time"
)

// ICE is what browsers get to set up a call: STUN/TURN server URLs and,
// with a shared TURN secret, time-limited TURN credentials in the TURN
// REST API scheme (coturn's use-auth-secret / static-auth-secret), so no
// long-lived TURN password ever reaches a browser.
type ICE struct {
	URLs []string
	// TURNSecret is the secret shared with the TURN server ('' : the TURN
	// URLs carry no credentials).
	TURNSecret string
	// TURNTTL is how long credentials stay valid (default 12 h: a long
	// clinic or board session outlives a short one).
	TURNTTL time.Duration
}

// ICEServer is one RTCIceServer dictionary.
type ICEServer struct {
	URLs       []string `json:"urls"`
	Username   string   `json:"username,omitempty"`
	Credential string   `json:"credential,omitempty"`
}

// Servers are the ICE servers for user at now: STUN URLs as they are,
// TURN URLs together with a credential for user when a secret is set.
func (c ICE) Servers(user string, now time.Time) []ICEServer {
	out := []ICEServer{}
	var turn []string
	for _, u := range c.URLs {
		if c.TURNSecret != "" && (strings.HasPrefix(u, "turn:") || strings.HasPrefix(u, "turns:")) {
			turn = append(turn, u)
			continue
		}
		out = append(out, ICEServer{URLs: []string{u}})
	}
	if len(turn) > 0 {
		ttl := c.TURNTTL
		if ttl <= 0 {
			ttl = 12 * time.Hour
		}
		name, cred := TURNCredential(c.TURNSecret, user, now.Add(ttl))
		out = append(out, ICEServer{URLs: turn, Username: name, Credential: cred})
	}
	return out
}

// TURNCredential is the TURN REST API credential for user until expiry:
// username "<expiry unix seconds>:<user>", credential
// base64(HMAC-SHA1(secret, username)). The TURN server recomputes it from
// the same secret and refuses it after expiry.
func TURNCredential(secret, user string, expiry time.Time) (username, credential string) {
	username = strconv.FormatInt(expiry.Unix(), 10) + ":" + user
	m := hmac.New(sha1.New, []byte(secret))
	m.Write([]byte(username))
	return username, base64.StdEncoding.EncodeToString(m.Sum(nil))
}
