package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"lightbox/internal/assign"
	"lightbox/internal/dispatch"
	"lightbox/internal/roster"
	"lightbox/internal/simulate"
)

func runSimulate(ctx context.Context, env *Env, args []string) error {
	fs := newFlags(env, "simulate", "simulate --scenario small|national|FILE [--policy lightbox|shared-pool|round-robin|offline-bound|all] [--seed N] [--hours N] [--variant dropout|surge|longtail|all] [--suggest N] [--json] [--chart FILE]")
	scenario := fs.String("scenario", "small", "small, national, or a scenario parameter file (JSON)")
	policy := fs.String("policy", "all", "lightbox, shared-pool, round-robin, offline-bound (the best any policy could do), or all to compare them")
	seed := fs.Uint64("seed", 1, "random seed; the same seed gives the same result")
	hours := fs.Int("hours", 24, "hours of arrivals to simulate")
	asJSON := fs.Bool("json", false, "print one JSON object per policy on stdout instead of a table")
	chart := fs.String("chart", "", "write an SVG chart of TAT by hour of day per policy to FILE")
	fromDB := fs.Bool("from-db", false, "replay a past day's studies from the database against the group's configured readers and facilities")
	day := fs.String("day", "", "with --from-db: the day to replay, YYYY-MM-DD in UTC (default yesterday)")
	variant := fs.String("variant", "", "a surprise on top of the scenario: dropout, surge, longtail, or all to compare each policy on the plain day and every variant")
	suggest := fs.Int("suggest", 0, "name up to N roster changes (extra duty hours for readers who hold the needed credentials) that would cover most studies arriving with no eligible reader on duty, and re-run the day with them applied")
	record := fs.String("record", "", "write the simulated day (Lightbox policy) into the database on this UTC day, YYYY-MM-DD or yesterday: its studies and signed reads feed the dashboards (study IDs start with sim-)")
	sf := addStorageFlags(fs)
	if err := parse(fs, args, env); err != nil {
		return err
	}
	if *record != "" {
		return recordDay(ctx, env, sf, simulate.Options{Scenario: *scenario, Seed: *seed, Hours: *hours, Variant: *variant}, *record)
	}
	var built *simulate.Scenario
	if *fromDB {
		var err error
		if built, err = scenarioFromDB(ctx, env, sf, *day, *hours); err != nil {
			return err
		}
	}
	if *suggest > 0 {
		sg, err := simulate.Suggest(ctx, simulate.Options{Scenario: *scenario, Built: built, Seed: *seed, Hours: *hours}, *suggest)
		if err != nil {
			return err
		}
		if *asJSON {
			return json.NewEncoder(env.Stdout).Encode(sg)
		}
		return sg.WriteSuggestions(env.Stdout)
	}
	policies := []assign.Policy{assign.Policy(*policy)}
	if *policy == "all" {
		policies = []assign.Policy{assign.PolicyLightbox, "shared-pool", "round-robin", simulate.PolicyBound}
	}
	variants := []string{*variant}
	if *variant == "all" {
		variants = append([]string{""}, simulate.Variants...)
	}
	var opts []simulate.Options
	for _, v := range variants {
		for _, p := range policies {
			opts = append(opts, simulate.Options{Scenario: *scenario, Built: built, Policy: p, Seed: *seed, Hours: *hours, Variant: v})
		}
	}
	results, err := simulate.RunAll(ctx, opts)
	if err != nil {
		return err
	}
	for _, r := range results {
		if *variant == "all" && r.Label == "" {
			r.Label = "plain"
		}
		if *asJSON {
			if err := r.WriteJSON(env.Stdout); err != nil {
				return err
			}
		}
	}
	if !*asJSON {
		if len(results) == 1 {
			if err := results[0].WriteTable(env.Stdout); err != nil {
				return err
			}
		} else if err := simulate.WriteComparison(env.Stdout, results); err != nil {
			return err
		}
	}
	if *chart != "" {
		f, err := os.Create(*chart)
		if err != nil {
			return err
		}
		if err := simulate.WriteChartSVG(f, results); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	for _, r := range results {
		if r.Violations > 0 {
			return fmt.Errorf("policy %s broke hard rules %d times: %s", r.Policy, r.Violations, strings.Join(r.ViolationLog, "; "))
		}
	}
	return nil
}

// scenarioFromDB builds a scenario from the group's real configuration
// (readers, facilities) and one past day's worklist arrivals.
func scenarioFromDB(ctx context.Context, env *Env, sf *storageFlags, day string, hours int) (*simulate.Scenario, error) {
	start := time.Now().UTC().Truncate(24 * time.Hour).Add(-24 * time.Hour)
	if day != "" {
		var err error
		if start, err = time.Parse("2006-01-02", day); err != nil {
			return nil, fmt.Errorf("--day must be YYYY-MM-DD: %w", err)
		}
	}
	st, _, err := sf.open(ctx, env)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	rs := roster.Store{DB: st.DB}
	facs, err := rs.Facilities(ctx)
	if err != nil {
		return nil, err
	}
	readers, err := rs.Readers(ctx)
	if err != nil {
		return nil, err
	}
	arrivals, err := dispatch.Arrivals(ctx, st.DB, start, start.Add(time.Duration(hours)*time.Hour))
	if err != nil {
		return nil, err
	}
	if len(arrivals) == 0 || len(readers) == 0 {
		return nil, fmt.Errorf("nothing to replay on %s: %d studies reached the worklist, %d readers configured", start.Format("2006-01-02"), len(arrivals), len(readers))
	}
	c := simulate.Config{Name: "db " + start.Format("2006-01-02"), Start: start, Hours: hours, Arrivals: arrivals}
	for _, f := range facs {
		c.Facilities = append(c.Facilities, *f)
	}
	for _, r := range readers {
		c.Readers = append(c.Readers, *r)
	}
	return simulate.ScenarioFromConfig(c)
}
