package cli

import (
	"context"
	"fmt"
	"os"
	"strings"

	"lightbox/internal/simulate"
	"lightbox/internal/worklist"
)

func runSimulate(ctx context.Context, env *Env, args []string) error {
	fs := newFlags(env, "simulate", "simulate --scenario small|national|FILE [--policy lightbox|shared-pool|round-robin|all] [--seed N] [--hours N] [--json] [--chart FILE]")
	scenario := fs.String("scenario", "small", "small, national, or a scenario parameter file (JSON)")
	policy := fs.String("policy", "all", "lightbox, shared-pool, round-robin, or all to compare them")
	seed := fs.Uint64("seed", 1, "random seed; the same seed gives the same result")
	hours := fs.Int("hours", 24, "hours of arrivals to simulate")
	asJSON := fs.Bool("json", false, "print one JSON object per policy on stdout instead of a table")
	chart := fs.String("chart", "", "write an SVG chart of TAT by hour of day per policy to FILE")
	if err := parse(fs, args, env); err != nil {
		return err
	}
	policies := []worklist.Policy{worklist.Policy(*policy)}
	if *policy == "all" {
		policies = []worklist.Policy{worklist.PolicyLightbox, "shared-pool", "round-robin"}
	}
	var results []*simulate.Result
	for _, p := range policies {
		r, err := simulate.Run(ctx, simulate.Options{Scenario: *scenario, Policy: p, Seed: *seed, Hours: *hours})
		if err != nil {
			return err
		}
		results = append(results, r)
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
