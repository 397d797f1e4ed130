package api

import (
	"net/http"

	"lightbox/internal/auth"
	"lightbox/internal/hl7sender"
)

// Registered HL7 senders, for administrators: which sending facility (and
// application) speaks for which facility, from which networks or with which
// TLS client certificate.

func (a *API) listHL7Senders(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	l, err := hl7sender.Store{DB: a.db}.List(r.Context())
	replyList(w, a.fail, l, err)
}

// putHL7Sender creates or replaces the sender named by the path (MSH-4) and
// the body's sending_application.
func (a *API) putHL7Sender(w http.ResponseWriter, r *http.Request, p *auth.Principal, s hl7sender.Sender) {
	s.SendingFacility = r.PathValue("sending")
	a.setupDone(w, r, a.setup.PutHL7Sender(r.Context(), actor(r, p), s), s)
}

// deleteHL7Sender removes a sender; ?sending_application= names its MSH-3.
func (a *API) deleteHL7Sender(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	a.setupDone(w, r, a.setup.DeleteHL7Sender(r.Context(), actor(r, p), r.PathValue("sending"), r.URL.Query().Get("sending_application")),
		map[string]string{"status": "deleted"})
}
