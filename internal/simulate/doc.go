// Package simulate is a deterministic discrete-event simulator of a
// teleradiology day. It replays arrivals across facility time zones
// against reader shifts, breaks, outages and reading times, driving the
// very assign.Engine the server runs (through Apply and its decisions),
// and reports TAT percentiles by priority, SLA breaches, utilisation,
// fairness (Gini of RVU/hour, per shift) and rule violations for each
// policy, beside an offline bound (bound.go: the best first-read time any
// policy could reach on the same day). Suggest names the roster changes
// that would cover studies arriving with no eligible reader on duty, and
// variants (variant.go) add dropouts, a surge and long reads.
//
// Same scenario + policy + seed ⇒ byte-identical JSON: the only clock is
// the event queue and the only randomness is math/rand/v2 seeded from
// Options.Seed.
package simulate
