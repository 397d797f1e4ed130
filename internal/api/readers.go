package api

import (
	"net/http"

	"lightbox/internal/auth"
	"lightbox/internal/httpx"
	"lightbox/internal/model"
	"lightbox/internal/setup"
)

// Reader set-up: one reader document, removal, bulk import and export.
// The read routes (list, get, calendars) are in api.go.

func (a *API) putReader(w http.ResponseWriter, r *http.Request, p *auth.Principal, rd model.Reader) {
	rd.ID = r.PathValue("id")
	a.setupDone(w, r, a.setup.PutReader(r.Context(), actor(r, p), &rd), &rd)
}

func (a *API) deleteReader(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	a.setupDone(w, r, a.setup.DeleteReader(r.Context(), actor(r, p), r.PathValue("id")), map[string]string{"status": "deleted"})
}

// exportReaders: ?format=json (reader documents, the default),
// readers-csv (one reader a row), csv or credentials-csv (licences and
// privileges, one a row).
func (a *API) exportReaders(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	format := r.URL.Query().Get("format")
	switch format {
	case "", setup.FormatJSON:
		format = setup.FormatJSON
	case "csv", setup.FormatCredentialsCSV:
		format = setup.FormatCredentialsCSV
	case setup.FormatReadersCSV:
	default:
		httpx.JSON(w, http.StatusBadRequest, setup.Error{Code: setup.CodeFormat, Msg: "format is json, readers-csv or credentials-csv"})
		return
	}
	exportAs(w, format, "readers")
	if err := a.setup.ExportReaders(r.Context(), w, format); err != nil {
		a.log.Error("export readers", "err", err)
	}
}

// importReaders: application/json is an array of reader documents;
// text/csv is licences and privileges (credentials-csv), or with
// ?kind=readers one reader a row (readers-csv). The answer is the import
// report: rows accepted, and each rejected row with its reason.
func (a *API) importReaders(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	format, ok := importFormat(r)
	if !ok {
		httpx.JSON(w, http.StatusUnsupportedMediaType, setup.Error{Code: setup.CodeFormat, Msg: "send application/json (readers) or text/csv (licences and privileges, or ?kind=readers)"})
		return
	}
	body := http.MaxBytesReader(w, r.Body, maxBody)
	var rep *setup.Report
	var err error
	switch {
	case format == "json":
		rep, err = a.setup.ImportReaders(r.Context(), actor(r, p), body, setup.FormatJSON)
	case r.URL.Query().Get("kind") == "readers":
		rep, err = a.setup.ImportReaders(r.Context(), actor(r, p), body, setup.FormatReadersCSV)
	default:
		rep, err = a.setup.ImportCredentials(r.Context(), actor(r, p), body)
	}
	a.setupDone(w, r, err, rep)
}
