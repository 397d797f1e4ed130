// Package simulate is a deterministic discrete-event simulator of a
// teleradiology day. It replays arrivals across facility time zones
// against reader shifts, breaks, outages and reading times, driving the
// very worklist.Engine the server runs (through Apply and its decisions),
// and reports TAT percentiles by priority, SLA breaches, utilisation,
// fairness (Gini of RVU/hour) and rule violations for each policy.
//
// Same scenario + policy + seed ⇒ byte-identical JSON: the only clock is
// the event queue and the only randomness is math/rand/v2 seeded from
// Options.Seed.
package simulate
