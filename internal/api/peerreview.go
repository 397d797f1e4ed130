package api

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"time"

	"lightbox/internal/auth"
	"lightbox/internal/httpx"
	"lightbox/internal/notify"
	"lightbox/internal/peerreview"
	"lightbox/internal/report"
)

// RADPEER peer review (internal/peerreview):
//
//	GET  /api/peer-review/policy            -> peerreview.Policy
//	PUT  /api/peer-review/policy            (staff)
//	POST /api/peer-review/draw              {"month":"2026-11"} (staff) -> drawn reviews
//	GET  /api/peer-reviews?as=reviewer|author|all  (all: staff) -> []peerreview.Review, anonymised
//	POST /api/peer-reviews/{id}/score       {"score":"2b","comment":"..."} (the reviewer)
//	POST /api/peer-reviews/{id}/arbitrate   {"score":"2a","comment":"..."} (the arbiter)
//	GET  /api/peer-review/rates             -> []peerreview.Rate (staff: everyone; a reader: their own)
//	GET  /api/peer-review/export.csv        (staff)

func (a *API) peers() peerreview.Store { return peerreview.Store{DB: a.db, Now: a.now} }

func (a *API) peerPolicy(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	servePolicy(a, w, r, a.peers(), peerreview.ErrInvalid, peerreview.ErrNotFound)
}

// PeerDrawer draws a month's RADPEER sample from the reports' finals and
// the roster's readers (their subspecialties and the facilities they hold
// privileges at), telling each reviewer of their new review. The server
// runs it monthly (peerreview.Drawer.Run); staff may also draw by hand.
func (a *API) PeerDrawer() peerreview.Drawer {
	return peerreview.Drawer{
		Store: a.peers(),
		Finals: func(ctx context.Context, from, to time.Time) ([]peerreview.Final, error) {
			finals, err := report.New(a.db, report.Options{}).Finals(ctx, from, to)
			if err != nil {
				return nil, err
			}
			fs := make([]peerreview.Final, len(finals))
			for i, f := range finals {
				fs[i] = peerreview.Final{StudyUID: f.StudyUID, FacilityID: f.FacilityID, Author: f.Author, SignedAt: f.SignedAt}
			}
			return fs, nil
		},
		Reviewers: a.reviewers,
		Assigned: func(ctx context.Context, v peerreview.Review) {
			a.tell(ctx, notify.Message{Event: notify.PeerReview, Key: fmt.Sprintf("peer-review/%d/assigned", v.ID),
				Subject: "A peer review was assigned to you", Text: "A finalised study awaits your RADPEER score.", Link: "/peer-review"}, v.Reviewer)
		},
	}
}

// reviewers are the roster's readers with their subspecialties and the
// facilities they hold privileges at.
func (a *API) reviewers(ctx context.Context) ([]peerreview.Reviewer, error) {
	rs, err := a.roster.Readers(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]peerreview.Reviewer, 0, len(rs))
	for _, x := range rs {
		v := peerreview.Reviewer{ID: x.ID, Subspecialties: x.Subspecialties, Facilities: []string{}}
		for _, pr := range x.Privileges {
			v.Facilities = append(v.Facilities, pr.Facility)
		}
		out = append(out, v)
	}
	return out, nil
}

type peerDrawBody struct {
	Month string `json:"month"` // YYYY-MM; default the previous month
}

func (a *API) peerDraw(w http.ResponseWriter, r *http.Request, p *auth.Principal, req peerDrawBody) {
	from := time.Date(a.now().UTC().Year(), a.now().UTC().Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -1, 0)
	if req.Month != "" {
		t, err := time.Parse("2006-01", req.Month)
		if err != nil {
			writeError(w, http.StatusUnprocessableEntity, "month must be YYYY-MM")
			return
		}
		from = t
	}
	out, err := a.PeerDrawer().Month(r.Context(), from)
	if err != nil {
		a.fail(w, err)
		return
	}
	httpx.JSON(w, http.StatusOK, out)
}

func (a *API) peerList(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	as := r.URL.Query().Get("as")
	switch {
	case as == "":
		as = "reviewer"
	case as == "all" && !isStaff(p):
		writeError(w, http.StatusForbidden, "only staff see every review")
		return
	case as != "reviewer" && as != "author" && as != "all":
		writeError(w, http.StatusBadRequest, "as must be reviewer, author or all")
		return
	}
	where := as
	if as == "all" {
		where = ""
	}
	ctx := r.Context()
	pol, err := a.peers().Policy(ctx)
	if err != nil {
		a.fail(w, err)
		return
	}
	vs, err := a.peers().List(ctx, where, p.Username)
	if err != nil {
		a.fail(w, err)
		return
	}
	for i := range vs {
		if as != "all" {
			vs[i] = vs[i].Anonymised(pol, p.Username)
		}
	}
	httpx.JSON(w, http.StatusOK, vs)
}

func (a *API) peerScore(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	a.peerDecide(w, r, p, false)
}

func (a *API) peerArbitrate(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	a.peerDecide(w, r, p, true)
}

// peerDecide records a reviewer's score, or an arbiter's, and tells who
// comes next: the arbiter for 2b and above, else the author.
func (a *API) peerDecide(w http.ResponseWriter, r *http.Request, p *auth.Principal, arbitrate bool) {
	id, ok := pathID(w, r, "id")
	if !ok {
		return
	}
	var req struct {
		Score   string `json:"score"`
		Comment string `json:"comment"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	ctx := r.Context()
	var v peerreview.Review
	var err error
	if arbitrate {
		v, err = a.peers().Arbitrate(ctx, id, p.Username, req.Score, req.Comment)
	} else {
		var revs []peerreview.Reviewer
		if revs, err = a.reviewers(ctx); err != nil {
			a.fail(w, err)
			return
		}
		v, err = a.peers().Score(ctx, id, p.Username, req.Score, req.Comment, arbiterFrom(revs))
	}
	if err != nil {
		a.domainFail(w, err, peerreview.ErrInvalid, peerreview.ErrNotFound, peerreview.ErrNotYours)
		return
	}
	if v.Status == peerreview.Arbitration {
		a.tell(ctx, notify.Message{Event: notify.PeerReview, Key: fmt.Sprintf("peer-review/%d/arbitration", v.ID),
			Subject: "A peer review needs your arbitration", Text: "A reviewer scored a study " + v.Score + "; a second opinion decides.", Link: "/peer-review"}, v.Arbiter)
	} else {
		a.peerFeedback(r, v)
	}
	httpx.JSON(w, http.StatusOK, v)
}

// arbiterFrom picks the second reviewer of a review among revs: eligible
// as the first was, and neither the author nor the first reviewer.
func arbiterFrom(revs []peerreview.Reviewer) func(peerreview.Review) (string, bool) {
	rng := rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	return func(v peerreview.Review) (string, bool) {
		var author peerreview.Reviewer
		for _, x := range revs {
			if x.ID == v.Author {
				author = x
			}
		}
		return peerreview.Pick(peerreview.Final{StudyUID: v.StudyUID, FacilityID: v.FacilityID, Author: v.Author}, author, revs, map[string]int{}, rng, v.Reviewer)
	}
}

// peerFeedback tells the author the outcome of a closed review.
func (a *API) peerFeedback(r *http.Request, v peerreview.Review) {
	a.tell(r.Context(), notify.Message{Event: notify.PeerReview, Key: fmt.Sprintf("peer-review/%d/closed", v.ID),
		Subject: "Peer review of one of your reports: RADPEER " + v.FinalScore,
		Text:    "A peer review of one of your finalised reports closed with score " + v.FinalScore + ". The comments are on the peer-review page.",
		Link:    "/peer-review"}, v.Author)
}

func (a *API) peerRates(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	rates, err := a.peers().Rates(r.Context())
	if err != nil {
		a.fail(w, err)
		return
	}
	if !isStaff(p) {
		mine := []peerreview.Rate{}
		for _, x := range rates {
			if x.Author == p.Username {
				mine = append(mine, x)
			}
		}
		rates = mine
	}
	httpx.JSON(w, http.StatusOK, rates)
}

func (a *API) peerExport(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="peer-review.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	if err := a.peers().WriteCSV(r.Context(), w); err != nil {
		a.log.Error("peer review export", "err", err)
	}
}
