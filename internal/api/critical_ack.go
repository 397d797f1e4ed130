package api

import (
	"errors"
	"html/template"
	"net/http"

	"lightbox/internal/critical"
)

// ackPage renders the public pages. No inline script or style (CSP).
var ackPage = template.Must(template.New("ack").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>{{.Title}}</title></head>
<body><main>
<h1>{{.Title}}</h1>
{{if .Message}}<p>{{.Message}}</p>{{end}}
{{with .View}}<dl>
{{if .FacilityName}}<dt>Facility</dt><dd>{{.FacilityName}}</dd>{{end}}
{{if .Accession}}<dt>Accession</dt><dd>{{.Accession}}</dd>{{end}}
<dt>critical.Category</dt><dd>{{.Category}}{{if .CategoryLabel}} ({{.CategoryLabel}}){{end}}</dd>
<dt>critical.Finding</dt><dd>{{.Finding}}</dd>
<dt>Radiologist</dt><dd>{{.Reader}}</dd>
<dt>Identified</dt><dd>{{.IdentifiedAt}}</dd>
</dl>
{{if $.Form}}<form method="post">
<p><label for="name">Your full name</label><br><input id="name" name="name" required maxlength="200" autocomplete="name"></p>
<p><label for="role">Your role (optional)</label><br><input id="role" name="role" maxlength="200"></p>
<p><button type="submit">I confirm I have received this critical result</button></p>
</form>{{end}}{{end}}
</main></body></html>
`))

type ackPageData struct {
	Title, Message string
	View           *critical.AckView
	Form           bool
}

func renderAck(w http.ResponseWriter, code int, d ackPageData) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(code)
	_ = ackPage.Execute(w, d)
}

func ackError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, critical.ErrTokenUsed):
		renderAck(w, http.StatusGone, ackPageData{Title: "Link already used", Message: "This acknowledgement link has already been used. Nothing was changed. critical.Contact the reading radiologist if you need to confirm again."})
	case errors.Is(err, critical.ErrTokenExpired):
		renderAck(w, http.StatusGone, ackPageData{Title: "Link expired", Message: "This acknowledgement link has expired. Nothing was changed. Please contact the reading radiologist or the radiology coordinator."})
	case errors.Is(err, critical.ErrClosed):
		renderAck(w, http.StatusGone, ackPageData{Title: "Already closed", Message: "This critical result has already been communicated and closed. Nothing was changed."})
	case errors.Is(err, critical.ErrTokenInvalid), errors.Is(err, critical.ErrNotFound):
		renderAck(w, http.StatusNotFound, ackPageData{Title: "Link not valid", Message: "This acknowledgement link is not valid. Nothing was changed. Check that the whole link was copied."})
	default:
		renderAck(w, http.StatusInternalServerError, ackPageData{Title: "Something went wrong", Message: "Your confirmation could not be recorded. Please call the reading radiologist."})
	}
}
