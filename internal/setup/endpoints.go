package setup

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"lightbox/internal/audit"
	"lightbox/internal/db"
	"lightbox/internal/facility"
	"lightbox/internal/outbox"
)

// Endpoint kinds.
const (
	EndpointHL7  = "hl7"  // HL7 v2 over MLLP: Address host:port
	EndpointFHIR = "fhir" // FHIR R4: Address the base URL
)

// Endpoint is a facility's result endpoint.
type Endpoint = outbox.Endpoint

func checkEndpoint(e *Endpoint) error {
	e.Address = strings.TrimSpace(e.Address)
	switch e.Kind {
	case EndpointHL7:
		host, port, err := net.SplitHostPort(e.Address)
		n, perr := strconv.Atoi(port)
		if err != nil || host == "" || perr != nil || n < 1 || n > 65535 {
			return invalid("address", "an HL7 MLLP endpoint is host:port")
		}
		if e.Auth != "" {
			return invalid("auth", "HL7 MLLP endpoints authenticate with TLS, not a header")
		}
	case EndpointFHIR:
		u, err := url.Parse(e.Address)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" {
			return invalid("address", "a FHIR endpoint is the server's base URL (https://host/path)")
		}
		e.Address = strings.TrimRight(e.Address, "/")
		e.TLS = u.Scheme == "https"
	default:
		return invalid("kind", "must be hl7 or fhir, not %q", e.Kind)
	}
	return nil
}

// PutEndpoint creates or replaces a facility's endpoint of a kind.
func (s *Service) PutEndpoint(ctx context.Context, by Actor, e Endpoint) error {
	if err := checkEndpoint(&e); err != nil {
		return err
	}
	return s.write(ctx, by, change{typ: audit.NetworkConfiguration, action: audit.Update, object: "endpoint",
		detail: "put " + e.Kind + " endpoint of " + e.FacilityID, facility: e.FacilityID}, func(tx *db.Tx) error {
		if _, err := facility.Get(ctx, tx, e.FacilityID); err != nil {
			return unknownFacility("facility_id", e.FacilityID)
		}
		return outbox.SetEndpoint(ctx, tx, e)
	})
}

// DeleteEndpoint removes a facility's endpoint of a kind.
func (s *Service) DeleteEndpoint(ctx context.Context, by Actor, facilityID, kind string) error {
	return s.write(ctx, by, change{typ: audit.NetworkConfiguration, action: audit.Delete, object: "endpoint",
		detail: "delete " + kind + " endpoint of " + facilityID, facility: facilityID}, func(tx *db.Tx) error {
		ok, err := outbox.DeleteEndpoint(ctx, tx, facilityID, kind)
		return removed(ok, err, "facility %s has no %s endpoint", facilityID, kind)
	})
}

// Endpoints lists endpoints ("" = every facility) with secrets masked.
func (s *Service) Endpoints(ctx context.Context, facilityID string) ([]Endpoint, error) {
	es, err := outbox.Endpoints(ctx, s.DB, facilityID)
	for i := range es {
		if es[i].Auth != "" {
			es[i].Auth = "(set)"
		}
	}
	if es == nil {
		es = []Endpoint{}
	}
	return es, err
}

// TestResult is what a peer answered to a test message.
type TestResult struct {
	FacilityID string `json:"facility_id"`
	Kind       string `json:"kind"`
	Address    string `json:"address"`
	OK         bool   `json:"ok"`
	Ack        string `json:"ack,omitempty"`    // HL7: MSA-1 (AA, AE, AR ...); FHIR: the HTTP status
	Detail     string `json:"detail,omitempty"` // MSA-3 text, FHIR version, or the transport error
	Millis     int64  `json:"ms"`
}

// FHIRProbe asks a FHIR server for its capability statement; it returns
// the HTTP status and the FHIR version it declares. The HTTP client lives
// at the edge (internal/fhir), so it is injected.
type FHIRProbe func(ctx context.Context, base, authorization string, tlsConfig *tls.Config) (status int, fhirVersion string, err error)

// HL7Probe sends an HL7 v2 message over MLLP (TLS when tlsConfig is set)
// and returns the acknowledgement's code and text, ok for an accept. The
// MLLP client lives at the edge (internal/hl7), so it is injected.
type HL7Probe func(ctx context.Context, addr string, tlsConfig *tls.Config, msg []byte) (ackCode, text string, ok bool, err error)

// TestEndpoint sends a test message to a facility's endpoint and reports
// the peer's answer: for HL7 an ORU^R01 with processing ID T (test, no
// patient) and its ACK; for FHIR the capability statement. Not audited:
// it changes nothing and carries no patient data.
func (s *Service) TestEndpoint(ctx context.Context, facilityID, kind string) (TestResult, error) {
	e, ok, err := outbox.LookupEndpoint(ctx, s.DB, facilityID, kind)
	if err != nil {
		return TestResult{}, err
	}
	if !ok {
		return TestResult{}, &Error{Code: CodeNotFound, Msg: fmt.Sprintf("facility %s has no %s endpoint", facilityID, kind)}
	}
	res := TestResult{FacilityID: facilityID, Kind: kind, Address: e.Address}
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	switch kind {
	case EndpointHL7:
		if s.HL7Probe == nil {
			return res, &Error{Code: CodeInvalid, Msg: "HL7 endpoint tests are not available here"}
		}
		var tlsConfig *tls.Config
		if e.TLS {
			tlsConfig = s.tlsFor(e.Address)
		}
		code, text, ok, err := s.HL7Probe(ctx, e.Address, tlsConfig, testMessage(facilityID, s.now()))
		if err != nil {
			res.Detail = err.Error()
			break
		}
		res.Ack, res.Detail, res.OK = code, text, ok
	case EndpointFHIR:
		if s.FHIRProbe == nil {
			return res, &Error{Code: CodeInvalid, Msg: "FHIR endpoint tests are not available here"}
		}
		status, version, err := s.FHIRProbe(ctx, e.Address, e.Auth, s.tlsFor(""))
		res.Ack = strconv.Itoa(status)
		if err != nil {
			res.Detail = err.Error()
			break
		}
		res.Detail, res.OK = "FHIR "+version, status == 200
	}
	res.Millis = time.Since(start).Milliseconds()
	return res, nil
}

func (s *Service) tlsFor(addr string) *tls.Config {
	c := &tls.Config{MinVersion: tls.VersionTLS12}
	if s.TLSConfig != nil {
		c = s.TLSConfig.Clone()
	}
	if host, _, err := net.SplitHostPort(addr); err == nil && c.ServerName == "" {
		c.ServerName = host
	}
	return c
}

// testMessage is an ORU^R01 marked as a test (MSH-11 = T) without a patient.
func testMessage(facilityID string, now time.Time) []byte {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	id := "LBTEST" + hex.EncodeToString(b)
	ts := now.UTC().Format("20060102150405")
	return []byte("MSH|^~\\&|LIGHTBOX|LIGHTBOX||" + facilityID + "|" + ts + "||ORU^R01^ORU_R01|" + id + "|T|2.5.1\r" +
		"OBR|1||" + id + "|TEST^Lightbox connectivity test^L|||" + ts + "|||||||||||||||||F\r" +
		"OBX|1|TX|TEST^Lightbox connectivity test^L||Connectivity test from Lightbox; no patient data.||||||F\r")
}
