package audit

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
)

// HashVersion is the first field of the canonical form; it changes if the
// form ever does.
const HashVersion = "lightbox-audit-v1"

// KeyedHashVersion is the first field of a keyed link (HMAC-SHA256 with
// the chain key instead of SHA-256); once a chain has a keyed link, every
// later link must be keyed.
const KeyedHashVersion = "lightbox-audit-v2"

// GenesisHash is the prev_hash of the first link (seq 1): 64 zeros.
const GenesisHash = "0000000000000000000000000000000000000000000000000000000000000000"

// row is an audit_event row exactly as stored (column text and integers).
type row struct {
	Seq           int64
	RecordedAt    string
	EventTime     string
	SourceID      string
	EventID       string
	EventType     string
	Action        string
	Outcome       int64
	UserID        string
	UserRole      string
	UserRequestor int64
	NetAddr       string
	Interface     string
	PeerID        string
	PatientIssuer string
	PatientID     string
	StudyUIDs     string
	ObjectType    string
	Detail        string
	FacilityID    string
	PrevHash      string
	Hash          string
}

// columns lists audit_event's columns in canonical (hash) order, then hash.
const columns = `seq, recorded_at, event_time, source_id, event_id, event_type, action, outcome, user_id, user_role, user_requestor, net_addr, interface, peer_id, patient_issuer, patient_id, study_uids, object_type, detail, facility_id, prev_hash, hash`

func (r *row) scanArgs() []any {
	return []any{&r.Seq, &r.RecordedAt, &r.EventTime, &r.SourceID, &r.EventID, &r.EventType, &r.Action, &r.Outcome,
		&r.UserID, &r.UserRole, &r.UserRequestor, &r.NetAddr, &r.Interface, &r.PeerID, &r.PatientIssuer, &r.PatientID,
		&r.StudyUIDs, &r.ObjectType, &r.Detail, &r.FacilityID, &r.PrevHash, &r.Hash}
}

func (r *row) insertArgs() []any {
	return []any{r.Seq, r.RecordedAt, r.EventTime, r.SourceID, r.EventID, r.EventType, r.Action, r.Outcome,
		r.UserID, r.UserRole, r.UserRequestor, r.NetAddr, r.Interface, r.PeerID, r.PatientIssuer, r.PatientID,
		r.StudyUIDs, r.ObjectType, r.Detail, r.FacilityID, r.PrevHash, r.Hash}
}

// canonical returns the byte string a link's hash is computed over: a
// netstring ("<byte length in decimal>:<bytes>,") for HashVersion and then
// for each column from seq to prev_hash in the order of doc.go.
func (r *row) canonical(version string) []byte {
	var b strings.Builder
	ns := func(s string) {
		b.WriteString(strconv.Itoa(len(s)))
		b.WriteByte(':')
		b.WriteString(s)
		b.WriteByte(',')
	}
	ns(version)
	ns(strconv.FormatInt(r.Seq, 10))
	ns(r.RecordedAt)
	ns(r.EventTime)
	ns(r.SourceID)
	ns(r.EventID)
	ns(r.EventType)
	ns(r.Action)
	ns(strconv.FormatInt(r.Outcome, 10))
	ns(r.UserID)
	ns(r.UserRole)
	ns(strconv.FormatInt(r.UserRequestor, 10))
	ns(r.NetAddr)
	ns(r.Interface)
	ns(r.PeerID)
	ns(r.PatientIssuer)
	ns(r.PatientID)
	ns(r.StudyUIDs)
	ns(r.ObjectType)
	ns(r.Detail)
	ns(r.FacilityID)
	ns(r.PrevHash)
	return []byte(b.String())
}

// computeHash is lowercase hex SHA-256 of the v1 canonical form, or with a
// key, HMAC-SHA256 of the v2 form.
func (r *row) computeHash(key []byte) string {
	if key != nil {
		m := hmac.New(sha256.New, key)
		m.Write(r.canonical(KeyedHashVersion))
		return hex.EncodeToString(m.Sum(nil))
	}
	sum := sha256.Sum256(r.canonical(HashVersion))
	return hex.EncodeToString(sum[:])
}

// joinUIDs stores a UID list: DICOM multi-value style, backslash-separated.
func joinUIDs(u []string) string { return strings.Join(u, `\`) }

func splitUIDs(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, `\`)
}
