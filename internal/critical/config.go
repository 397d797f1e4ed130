package critical

import (
	"fmt"
	"strings"
	"time"
)

// Category is one level of urgency (ACR Actionable Reporting categories by
// default), with the site's colour and the deadline from identification to
// communication.
type Category struct {
	Code     string        `json:"code"`     // e.g. "1"
	Label    string        `json:"label"`    // e.g. "Red"
	Colour   string        `json:"colour"`   // CSS-ish colour name for boards
	Deadline time.Duration `json:"deadline"` // SLA from identified_at
	// Verbal requires direct verbal communication: the loop closes only with
	// a named recipient and a read-back (CR3). Non-verbal categories accept
	// an electronic identifiable confirmation (the acknowledgement link).
	Verbal bool `json:"verbal"`
	// EscalateEvery is the interval between ladder rungs once the warning
	// point is passed. Zero spreads the rungs evenly between the warning
	// point and the deadline.
	EscalateEvery time.Duration `json:"escalate_every,omitzero"`
}

// Rung is one step of the escalation ladder. Targets name who is contacted
// at that step: TargetOrdering (the ordering clinician), TargetCovering (the
// clinician covering the ordering clinician at that time of day, or the
// facility's on-call), or a directory department (DeptED,
// DeptRadiologyCoordinator, DeptMedicalDirector).
type Rung struct {
	Name    string   `json:"name"`
	Targets []string `json:"targets"`
}

// Escalation targets besides the departments.
const (
	TargetOrdering = "ordering"
	TargetCovering = "covering"
)

// Directory departments.
const (
	DeptED                   = "ed"
	DeptRadiologyCoordinator = "radiology_coordinator"
	DeptMedicalDirector      = "medical_director"
)

// Config is the site policy (NPSG.02.03.01 EP1): categories with deadlines,
// the escalation ladder and acknowledgement links.
type Config struct {
	// Categories is the default category set; DefaultCategories when empty.
	Categories []Category `json:"categories"`
	// FacilityCategories overrides the set per facility (its own colour
	// scheme and deadlines).
	FacilityCategories map[string][]Category `json:"facility_categories,omitempty"`
	// WarnFraction of the deadline after which, with nobody reached, the
	// loop escalates to the next rung (default 0.5).
	WarnFraction float64 `json:"warn_fraction"`
	// Ladder is the escalation ladder; rung 0 is notified at open.
	// DefaultLadder when empty.
	Ladder []Rung `json:"ladder"`
	// AckTTL is how long an acknowledgement link stays valid (default 24 h).
	AckTTL time.Duration `json:"ack_ttl"`
	// AckBaseURL prefixes acknowledgement links, e.g.
	// "https://lightbox.example.org" (links are AckBaseURL + "/ack/" + token).
	AckBaseURL string `json:"ack_base_url"`
}

// DefaultCategories is the ACR three-category scheme with a common colour
// scheme: Red 60 min (verbal), Orange 6 h, Yellow 48 h.
func DefaultCategories() []Category {
	return []Category{
		{Code: "1", Label: "Red", Colour: "red", Deadline: time.Hour, Verbal: true},
		{Code: "2", Label: "Orange", Colour: "orange", Deadline: 6 * time.Hour},
		{Code: "3", Label: "Yellow", Colour: "yellow", Deadline: 48 * time.Hour},
	}
}

// DefaultLadder is ordering clinician → covering clinician → facility ED →
// radiology coordinator and medical director (CR2).
func DefaultLadder() []Rung {
	return []Rung{
		{Name: "ordering clinician", Targets: []string{TargetOrdering}},
		{Name: "covering clinician", Targets: []string{TargetCovering}},
		{Name: "emergency department", Targets: []string{DeptED}},
		{Name: "radiology coordinator / medical director", Targets: []string{DeptRadiologyCoordinator, DeptMedicalDirector}},
	}
}

func (c Config) withDefaults() Config {
	if len(c.Categories) == 0 {
		c.Categories = DefaultCategories()
	}
	if c.WarnFraction <= 0 || c.WarnFraction >= 1 {
		c.WarnFraction = 0.5
	}
	if len(c.Ladder) == 0 {
		c.Ladder = DefaultLadder()
	}
	if c.AckTTL <= 0 {
		c.AckTTL = 24 * time.Hour
	}
	c.AckBaseURL = strings.TrimSuffix(c.AckBaseURL, "/")
	return c
}

// Validate checks the configuration (after defaults are applied).
func (c Config) Validate() error {
	c = c.withDefaults()
	check := func(where string, cats []Category) error {
		seen := map[string]bool{}
		for _, k := range cats {
			if k.Code == "" || k.Deadline <= 0 {
				return fmt.Errorf("critical: %s: category %q needs a code and a positive deadline", where, k.Code)
			}
			if seen[k.Code] {
				return fmt.Errorf("critical: %s: category %q defined twice", where, k.Code)
			}
			seen[k.Code] = true
		}
		return nil
	}
	if err := check("categories", c.Categories); err != nil {
		return err
	}
	for f, cats := range c.FacilityCategories {
		if err := check("facility "+f, cats); err != nil {
			return err
		}
	}
	for i, r := range c.Ladder {
		if len(r.Targets) == 0 {
			return fmt.Errorf("critical: ladder rung %d has no targets", i)
		}
		for _, t := range r.Targets {
			switch t {
			case TargetOrdering, TargetCovering, DeptED, DeptRadiologyCoordinator, DeptMedicalDirector:
			default:
				return fmt.Errorf("critical: ladder rung %d: unknown target %q", i, t)
			}
		}
	}
	return nil
}

// CategoriesFor returns the category set in force at a facility.
func (c Config) CategoriesFor(facilityID string) []Category {
	if cats, ok := c.FacilityCategories[facilityID]; ok && len(cats) > 0 {
		return cats
	}
	return c.Categories
}

func (c Config) category(facilityID, code string) (Category, bool) {
	for _, k := range c.CategoriesFor(facilityID) {
		if k.Code == code {
			return k, true
		}
	}
	return Category{}, false
}

// schedule computes the persisted escalation plan for a new loop: when the
// first escalation is due and the interval between later ones.
func (c Config) schedule(k Category, identified time.Time) (deadline, warn time.Time, step time.Duration) {
	deadline = identified.Add(k.Deadline)
	warnAfter := time.Duration(float64(k.Deadline) * c.WarnFraction)
	warn = identified.Add(warnAfter)
	step = k.EscalateEvery
	if step <= 0 {
		rungs := len(c.Ladder) - 1
		if rungs < 1 {
			rungs = 1
		}
		step = (k.Deadline - warnAfter) / time.Duration(rungs)
	}
	if step < time.Second {
		step = time.Second
	}
	return deadline, warn, step
}
