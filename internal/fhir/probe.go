package fhir

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Probe asks a FHIR server for its CapabilityStatement (GET [base]/metadata)
// with the given Authorization header value, and returns the HTTP status
// and the FHIR version the server declares: a facility endpoint's "send a
// test message".
func Probe(ctx context.Context, base, authorization string, tlsConfig *tls.Config) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metadata", nil)
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Accept", "application/fhir+json")
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: tlsConfig, Proxy: http.ProxyFromEnvironment}}
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	var cs struct {
		ResourceType string `json:"resourceType"`
		FHIRVersion  string `json:"fhirVersion"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 4<<20)).Decode(&cs); err != nil || cs.ResourceType != "CapabilityStatement" {
		return resp.StatusCode, "", fmt.Errorf("HTTP %d without a CapabilityStatement", resp.StatusCode)
	}
	return resp.StatusCode, cs.FHIRVersion, nil
}
