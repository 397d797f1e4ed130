// Package demo seeds a demonstration group: the fictitious facilities of the
// generator and a small mixed set of synthetic studies (with priors). Seeding
// is idempotent: a marker row records it, and every generated instance is
// deterministic, so a re-run stores nothing new.
package demo
