package hl7sender

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"net"
	"testing"

	"lightbox/internal/db"
	"lightbox/internal/db/dbtest"
)

func TestAuthorize(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		st := Store{DB: d}
		for _, s := range []Sender{
			{SendingFacility: "HBI", FacilityID: "HBI", AllowCIDRs: []string{"10.1.0.0/16"}},
			{SendingFacility: "HBI", SendingApplication: "AIDOC", FacilityID: "HBI", AllowCIDRs: []string{"10.9.9.9/32"}},
			{SendingFacility: "SGH", FacilityID: "SGH", TLSSubject: "sgh-ehr"},
		} {
			if err := st.Put(ctx, s); err != nil {
				t.Fatal(err)
			}
		}
		for _, bad := range []Sender{{SendingFacility: "X", FacilityID: "X"}, {FacilityID: "X", AllowCIDRs: []string{"10.0.0.0/8"}}, {SendingFacility: "X", FacilityID: "X", AllowCIDRs: []string{"nope"}}} {
			if err := st.Put(ctx, bad); err == nil {
				t.Errorf("accepted %+v", bad)
			}
		}
		for _, c := range []struct {
			fac, app, ip string
			want         string
			err          error
		}{
			{"HBI", "EPIC", "10.1.2.3", "HBI", nil},
			{"hbi", "", "10.1.2.3", "HBI", nil},
			{"HBI", "EPIC", "192.168.1.1", "", ErrNotAllowed},
			{"HBI", "AIDOC", "10.9.9.9", "HBI", nil},
			{"HBI", "AIDOC", "10.1.2.3", "", ErrNotAllowed}, // an exact MSH-3 registration wins
			{"SGH", "", "10.1.2.3", "", ErrNotAllowed},      // no verified certificate
			{"RMI", "", "10.1.2.3", "", ErrUnknownSender},
			{"", "", "10.1.2.3", "", ErrUnknownSender},
		} {
			got, err := st.Authorize(ctx, c.fac, c.app, Peer{IP: net.ParseIP(c.ip)})
			if got != c.want || !errors.Is(err, c.err) {
				t.Errorf("%+v: %q %v", c, got, err)
			}
		}
		// The certificate subject counts only on a verified chain.
		cert := &x509.Certificate{Subject: pkix.Name{CommonName: "sgh-ehr"}}
		verified := &tls.ConnectionState{PeerCertificates: []*x509.Certificate{cert}, VerifiedChains: [][]*x509.Certificate{{cert}}}
		unverified := &tls.ConnectionState{PeerCertificates: []*x509.Certificate{cert}}
		if got, err := st.Authorize(ctx, "SGH", "", Peer{IP: net.ParseIP("192.0.2.1"), TLS: verified}); got != "SGH" || err != nil {
			t.Errorf("verified certificate: %q %v", got, err)
		}
		if _, err := st.Authorize(ctx, "SGH", "", Peer{IP: net.ParseIP("192.0.2.1"), TLS: unverified}); !errors.Is(err, ErrNotAllowed) {
			t.Errorf("unverified certificate: %v", err)
		}
		if l, _ := st.List(ctx); len(l) != 3 {
			t.Fatalf("list %+v", l)
		}
		if err := st.Delete(ctx, "HBI", "AIDOC"); err != nil {
			t.Fatal(err)
		}
		if got, _ := st.Authorize(ctx, "HBI", "AIDOC", Peer{IP: net.ParseIP("10.1.0.1")}); got != "HBI" {
			t.Errorf("after delete: %q", got)
		}
	})
}
