package api

import (
	"net/http"

	"lightbox/internal/auth"
	"lightbox/internal/httpx"
	"lightbox/internal/setup"
)

// Result endpoints of a facility (where reports go: HL7 MLLP, FHIR), for
// administrators, with a test message that reports the peer's answer.

func (a *API) listEndpoints(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	es, err := a.setup.Endpoints(r.Context(), r.PathValue("id"))
	a.reply(w, http.StatusOK, es, err)
}

type endpointBody struct {
	Address string `json:"address"`
	TLS     bool   `json:"tls,omitempty"`
	Auth    string `json:"auth,omitempty"`
}

func (a *API) putEndpoint(w http.ResponseWriter, r *http.Request, p *auth.Principal, b endpointBody) {
	e := setup.Endpoint{FacilityID: r.PathValue("id"), Kind: r.PathValue("kind"), Address: b.Address, TLS: b.TLS, Auth: b.Auth}
	err := a.setup.PutEndpoint(r.Context(), actor(r, p), e)
	e.Auth = ""
	a.setupDone(w, r, err, e)
}

func (a *API) deleteEndpoint(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	a.setupDone(w, r, a.setup.DeleteEndpoint(r.Context(), actor(r, p), r.PathValue("id"), r.PathValue("kind")), map[string]string{"status": "deleted"})
}

// testEndpoint answers 200 with the peer's answer (ok false when it
// refused or did not answer); 404 when no such endpoint is configured.
func (a *API) testEndpoint(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	res, err := a.setup.TestEndpoint(r.Context(), r.PathValue("id"), r.PathValue("kind"))
	if err != nil {
		a.setupError(w, err)
		return
	}
	httpx.JSON(w, http.StatusOK, res)
}
