package tlsutil

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"
)

// cipherSuites are the TLS 1.2 suites offered: forward secret AEADs only.
// (TLS 1.3 suites are not configurable and all fine.)
func cipherSuites() []uint16 {
	return []uint16{
		tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
		tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
		tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
		tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
		tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
		tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
	}
}

// ServerOptions tune Server.
type ServerOptions struct {
	// ClientCAFile is a PEM bundle of CAs for client certificates. When
	// set, clients must present a certificate signed by one of them
	// (mutual TLS), unless ClientAuth says otherwise.
	ClientCAFile string
	// ClientAuth overrides the client-certificate policy when
	// ClientCAFile is set (default tls.RequireAndVerifyClientCert).
	ClientAuth tls.ClientAuthType
	// HTTP advertises HTTP/2 and HTTP/1.1 by ALPN. Leave it off for DICOM
	// and MLLP.
	HTTP bool
}

// Server loads a certificate and key (PEM; the certificate file may hold
// the chain) into a server configuration. The pair is reloaded when the
// files change (checked at most once a minute), so renewed certificates
// are picked up without a restart.
func Server(certFile, keyFile string, o ServerOptions) (*tls.Config, error) {
	kp, err := newKeyPair(certFile, keyFile)
	if err != nil {
		return nil, err
	}
	cfg := &tls.Config{
		MinVersion:     tls.VersionTLS12,
		CipherSuites:   cipherSuites(),
		GetCertificate: kp.get,
	}
	if o.HTTP {
		cfg.NextProtos = []string{"h2", "http/1.1"}
	}
	if o.ClientCAFile != "" {
		pool, err := loadPool(o.ClientCAFile)
		if err != nil {
			return nil, err
		}
		cfg.ClientCAs = pool
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
		if o.ClientAuth != tls.NoClientCert {
			cfg.ClientAuth = o.ClientAuth
		}
	}
	return cfg, nil
}

// ClientOptions tune Client.
type ClientOptions struct {
	// CAFile is a PEM bundle of CAs trusted for the server (default: the
	// system pool).
	CAFile string
	// CertFile and KeyFile, when set, are presented for mutual TLS.
	CertFile, KeyFile string
	// ServerName overrides the name checked in the server certificate.
	ServerName string
}

// Client builds a configuration for outgoing connections (DICOM C-STORE to
// a facility, MLLP, syslog to an audit repository).
func Client(o ClientOptions) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, CipherSuites: cipherSuites(), ServerName: o.ServerName}
	if o.CAFile != "" {
		pool, err := loadPool(o.CAFile)
		if err != nil {
			return nil, err
		}
		cfg.RootCAs = pool
	}
	if o.CertFile != "" || o.KeyFile != "" {
		c, err := tls.LoadX509KeyPair(o.CertFile, o.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("load client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{c}
	}
	return cfg, nil
}

func loadPool(file string) (*x509.CertPool, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("load CA bundle: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("load CA bundle %s: no PEM certificates", file)
	}
	return pool, nil
}

// keyPair serves a certificate, reloading it when its files change.
type keyPair struct {
	certFile, keyFile string

	mu      sync.Mutex
	cert    *tls.Certificate
	mod     time.Time
	checked time.Time
}

func newKeyPair(certFile, keyFile string) (*keyPair, error) {
	kp := &keyPair{certFile: certFile, keyFile: keyFile}
	if err := kp.load(); err != nil {
		return nil, err
	}
	return kp, nil
}

func (kp *keyPair) modTime() time.Time {
	var t time.Time
	for _, f := range []string{kp.certFile, kp.keyFile} {
		if st, err := os.Stat(f); err == nil && st.ModTime().After(t) {
			t = st.ModTime()
		}
	}
	return t
}

func (kp *keyPair) load() error {
	mod := kp.modTime()
	c, err := tls.LoadX509KeyPair(kp.certFile, kp.keyFile)
	if err != nil {
		return fmt.Errorf("load certificate %s: %w", kp.certFile, err)
	}
	kp.cert, kp.mod, kp.checked = &c, mod, time.Now()
	return nil
}

func (kp *keyPair) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	kp.mu.Lock()
	defer kp.mu.Unlock()
	if time.Since(kp.checked) > time.Minute {
		kp.checked = time.Now()
		if kp.modTime().After(kp.mod) {
			_ = kp.load() // on a half-written renewal keep serving the old pair
		}
	}
	return kp.cert, nil
}

// Names of the files SelfSigned writes.
const (
	SelfSignedCert = "selfsigned-cert.pem"
	SelfSignedKey  = "selfsigned-key.pem"
)

// SelfSigned returns a self-signed ECDSA P-256 certificate and key in dir,
// valid for localhost, 127.0.0.1, ::1 and hosts (names or addresses),
// creating them (mode 0600) unless files already there are valid for 30
// more days and cover every host, in which case they are reused. For
// demonstrations and tests only: clients must trust the certificate itself.
func SelfSigned(dir string, hosts []string) (certFile, keyFile string, err error) {
	certFile, keyFile = filepath.Join(dir, SelfSignedCert), filepath.Join(dir, SelfSignedKey)
	all := append([]string{"localhost", "127.0.0.1", "::1"}, hosts...)
	if reusable(certFile, keyFile, all) {
		return certFile, keyFile, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", "", fmt.Errorf("self-signed certificate: %w", err)
	}
	der, pk, err := selfSignedDER(all)
	if err != nil {
		return "", "", fmt.Errorf("self-signed certificate: %w", err)
	}
	// Key first: a certificate without its key is never left behind as
	// "reusable".
	if err := writeFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk})); err != nil {
		return "", "", err
	}
	if err := writeFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})); err != nil {
		return "", "", err
	}
	return certFile, keyFile, nil
}

// SelfSignedPair makes an in-memory self-signed pair for localhost,
// 127.0.0.1, ::1 and hosts, with a pool that trusts it (tests).
func SelfSignedPair(hosts ...string) (tls.Certificate, *x509.CertPool, error) {
	der, pk, err := selfSignedDER(append([]string{"localhost", "127.0.0.1", "::1"}, hosts...))
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	key, err := x509.ParsePKCS8PrivateKey(pk)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}, pool, nil
}

// selfSignedDER makes an ECDSA P-256 certificate for hosts (names or
// addresses), valid for server and client authentication, and its PKCS#8 key.
func selfSignedDER(hosts []string) (der, pk []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "Lightbox self-signed", Organization: []string{"Lightbox"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(397 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			if !slices.ContainsFunc(tmpl.IPAddresses, ip.Equal) {
				tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
			}
		} else if h != "" && !slices.Contains(tmpl.DNSNames, h) {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err = x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	pk, err = x509.MarshalPKCS8PrivateKey(key)
	return der, pk, err
}

func reusable(certFile, keyFile string, hosts []string) bool {
	c, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil || c.Leaf == nil {
		return false
	}
	if time.Until(c.Leaf.NotAfter) < 30*24*time.Hour {
		return false
	}
	for _, h := range hosts {
		if h != "" && c.Leaf.VerifyHostname(h) != nil {
			return false
		}
	}
	return true
}

// writeFile writes a 0600 file atomically.
func writeFile(path string, b []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(f.Name())
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := errors.Join(f.Sync(), f.Close()); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return os.Rename(f.Name(), path)
}
