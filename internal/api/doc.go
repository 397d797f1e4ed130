// Package api is Lightbox's JSON API for people and integrations: the
// reader's worklist and its live stream (SSE), presence heartbeats, opening,
// releasing and reassigning studies, why an assignment was made, triage
// webhooks, and the group's reader credentials, facility contracts, expiry
// alerts, calendars and RVU table. Every route authenticates, and every
// study-level answer is limited to the caller's facility scope.
package api
