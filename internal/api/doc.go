// Package api is Lightbox's JSON API for people and integrations: the
// reader's worklist and its live stream (SSE), presence heartbeats, opening,
// releasing and reassigning studies, why an assignment was made, triage
// webhooks, and the group's reader credentials, facility contracts, expiry
// alerts, calendars and RVU table. Every route authenticates, and every
// study-level answer is limited to the caller's facility scope.
//
// Every route, who may call it and whether it is served stand in one table
// (routes.go); the handlers stay one file per resource. The table's
// adapters do the steps handlers share: withBody and withSetupBody decode
// the JSON body, withBodyOf first resolves what the path names, shown
// answers what it resolves to (respond.go, setup.go).
package api
