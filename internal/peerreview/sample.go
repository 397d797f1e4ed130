package peerreview

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

// Scores are the RADPEER scores.
var Scores = []string{"1", "2a", "2b", "3a", "3b"}

// Significant reports whether a score goes to arbitration (2b and above).
func Significant(score string) bool { return score == "2b" || score == "3a" || score == "3b" }

// Discrepant reports whether a score is a discrepancy (2 or 3).
func Discrepant(score string) bool { return score != "" && score != "1" }

// Policy is the group's sampling and anonymity configuration.
type Policy struct {
	// Mode "percent" samples Value % of each reader's finals in a month;
	// "count" samples Value finals per reader per month (all when fewer).
	Mode  string  `json:"mode"`
	Value float64 `json:"value"`
	// HideAuthor hides the author's name from reviewers; HideReviewer
	// hides reviewers' names from the author.
	HideAuthor   bool `json:"hide_author"`
	HideReviewer bool `json:"hide_reviewer"`
}

// DefaultPolicy samples 5 % with both sides anonymous.
func DefaultPolicy() Policy {
	return Policy{Mode: "percent", Value: 5, HideAuthor: true, HideReviewer: true}
}

// Validate checks a policy.
func (p Policy) Validate() error {
	switch {
	case p.Mode == "percent" && p.Value >= 0 && p.Value <= 100:
	case p.Mode == "count" && p.Value >= 0 && p.Value <= 1000 && p.Value == math.Trunc(p.Value):
	default:
		return fmt.Errorf("%w: mode percent (0-100) or count (whole number)", ErrInvalid)
	}
	return nil
}

// Final is one finalised study.
type Final struct {
	StudyUID   string    `json:"study_uid"`
	FacilityID string    `json:"facility_id"`
	Author     string    `json:"author"`
	SignedAt   time.Time `json:"signed_at"`
	// Subspecialty of the study, when known; otherwise a reviewer must
	// share one of the author's subspecialties.
	Subspecialty string `json:"subspecialty,omitempty"`
}

// Reviewer is a reader who may review.
type Reviewer struct {
	ID             string
	Subspecialties []string
	// Facilities the reviewer holds privileges at (nil: not checked); a
	// reviewer must be allowed to see the study they review.
	Facilities []string
}

// Target is how many of n finals a reader-month samples under p.
func (p Policy) Target(n int) int {
	if p.Mode == "count" {
		return min(n, int(p.Value))
	}
	// Round half up, so 5 % of 10 reads samples one rather than none.
	return min(n, int(math.Floor(float64(n)*p.Value/100+0.5)))
}

// Sample draws, for each author, Target(their finals) of finals at random.
func Sample(finals []Final, p Policy, rng *rand.Rand) []Final {
	return sample(finals, p, rng, nil)
}

// sample is Sample less what is already under review: reviewed holds the
// studies drawn before, which count towards their author's target.
func sample(finals []Final, p Policy, rng *rand.Rand, reviewed map[string]bool) []Final {
	by, have := map[string][]Final{}, map[string]int{}
	var authors []string
	for _, f := range finals {
		if _, ok := by[f.Author]; !ok {
			authors = append(authors, f.Author)
		}
		if reviewed[f.StudyUID] {
			have[f.Author]++
			continue
		}
		by[f.Author] = append(by[f.Author], f)
	}
	slices.Sort(authors)
	var out []Final
	for _, a := range authors {
		fs := by[a]
		k := max(0, min(len(fs), p.Target(len(fs)+have[a])-have[a]))
		for _, i := range rng.Perm(len(fs))[:k] {
			out = append(out, fs[i])
		}
	}
	return out
}

// Eligible lists the reviewers who may review f: never the author (nor
// anyone in exclude), privileged at the study's facility, and sharing the study's subspecialty, or one of the
// author's when the study has none.
func Eligible(f Final, author Reviewer, reviewers []Reviewer, exclude ...string) []Reviewer {
	var out []Reviewer
	for _, r := range reviewers {
		if r.ID == f.Author || slices.Contains(exclude, r.ID) || r.Facilities != nil && !slices.Contains(r.Facilities, f.FacilityID) {
			continue
		}
		ok := false
		if f.Subspecialty != "" {
			ok = slices.Contains(r.Subspecialties, f.Subspecialty)
		} else {
			for _, s := range author.Subspecialties {
				ok = ok || slices.Contains(r.Subspecialties, s)
			}
		}
		if ok {
			out = append(out, r)
		}
	}
	return out
}

// Pick chooses a reviewer for f, spreading the load: the eligible reviewer
// with the fewest reviews in load, ties broken at random. ok is false when
// nobody is eligible.
func Pick(f Final, author Reviewer, reviewers []Reviewer, load map[string]int, rng *rand.Rand, exclude ...string) (string, bool) {
	el := Eligible(f, author, reviewers, exclude...)
	if len(el) == 0 {
		return "", false
	}
	rng.Shuffle(len(el), func(i, j int) { el[i], el[j] = el[j], el[i] })
	best := el[0].ID
	for _, r := range el[1:] {
		if load[r.ID] < load[best] {
			best = r.ID
		}
	}
	load[best]++
	return best, true
}
