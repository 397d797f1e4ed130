package api

import "lightbox/internal/auth"

// The API's route table: every /api/ route, its handler (in the resource's
// file named above its rows), the roles that may call it (nil:
// anyone signed in but a referring clinician; see with) and whether it is
// served (a resource whose dependency is not configured is left out). One
// table, so the whole surface and who may use it reads in one place.

// route is a row of the table, served when on.
type route struct {
	pattern string
	h       authedHandler
	roles   []auth.Role
	on      bool
}

// The role sets of the table beside staff and readers (api.go) and admins
// (setup.go).
var (
	members      = []auth.Role{auth.Admin, auth.Coordinator, auth.Radiologist}
	protocolers  = []auth.Role{auth.Radiologist, auth.Admin, auth.Coordinator}
	irParties    = []auth.Role{auth.Admin, auth.Coordinator, auth.Radiologist, auth.Clinician}
	irRequesters = []auth.Role{auth.Radiologist, auth.Clinician}
	triagers     = []auth.Role{auth.Admin, auth.Coordinator, auth.Integration}
)

// Register adds the API's routes to mux.
func (a *API) Register(mux Mux) {
	for _, r := range a.routes() {
		if r.on {
			mux.HandleFunc(r.pattern, a.with(r.h, r.roles...))
		}
	}
	// A patient joining a clinic visit has no account: the visit cookie is
	// the only credential of these (visits.go), public paths in
	// internal/server.
	if a.consults != nil {
		mux.HandleFunc("POST /api/visit/join", a.joinVisit)
		mux.HandleFunc("GET /api/visit/events", a.guestEvents)
		mux.HandleFunc("POST /api/visit/signal", a.guestSignal)
	}
}

func (a *API) routes() []route {
	always := true
	orders, archive, notify, glass := a.orders != nil, a.archive != nil, a.notify != nil, a.glass != nil
	retention, audit, consults := a.retention != nil, a.audit != nil, a.consults != nil
	return []route{
		// api.go, readers.go
		{"GET /api/whoami", a.whoami, nil, always},
		{"GET /api/worklist", a.worklist, nil, always},
		{"GET /api/worklist/events", a.events, nil, always},
		{"POST /api/presence", a.heartbeat, readers, always},
		{"POST /api/presence/offline", a.offline, readers, always},
		{"POST /api/worklist/{study}/open", a.open, readers, always},
		{"POST /api/worklist/{study}/release", withBody(a.release), readers, always},
		{"POST /api/worklist/{study}/reassign", withBody(a.reassign), staff, always},
		{"GET /api/worklist/{study}/explain", a.explain, nil, always},
		{"POST /api/triage", withBody(a.triage), triagers, always},
		{"GET /api/readers", a.listReaders, staff, always},
		{"GET /api/readers/export", a.exportReaders, staff, always},
		{"POST /api/readers/import", a.importReaders, staff, always},
		{"GET /api/readers/{id}", a.getReader, nil, always},
		{"PUT /api/readers/{id}", withSetupBody(a.putReader), staff, always},
		{"DELETE /api/readers/{id}", a.deleteReader, staff, always},
		{"GET /api/readers/{id}/calendar.ics", a.readerCalendar, nil, always},
		{"GET /api/calendar.ics", a.groupCalendar, staff, always},
		{"GET /api/alerts/expiring", a.expiring, staff, always},
		{"GET /api/facilities", a.facilities, nil, always},
		{"PUT /api/facilities/{id}/contract", withBody(a.putContract), staff, always},
		{"GET /api/rvu", a.rvuTable, nil, always},
		// orders.go
		{"GET /api/orders/protocol-queue", a.protocolQueue, protocolers, orders},
		{"GET /api/orders/{id}", shown(a.visibleOrder), nil, orders},
		{"POST /api/orders/{id}/approve", a.approveOrder, readers, orders},
		{"POST /api/orders/{id}/reject", a.rejectOrder, readers, orders},
		{"POST /api/orders/{id}/return", a.returnOrder, readers, orders},
		{"GET /api/reconciliation", a.unmatched, staff, orders},
		{"POST /api/reconciliation/{id}/attach", a.attach, staff, orders},
		{"GET /api/hl7/dead-letters", a.deadLetters, staff, orders},
		{"GET /api/facilities/{id}/protocols", a.listProtocols, protocolers, orders},
		{"PUT /api/facilities/{id}/protocols", a.putProtocols, staff, orders},
		// aes.go
		{"GET /api/aes", a.listAEs, admins, always},
		{"PUT /api/aes/{title}", withBody(a.putAE), admins, always},
		{"DELETE /api/aes/{title}", a.deleteAE, admins, always},
		// hl7senders.go
		{"GET /api/hl7-senders", a.listHL7Senders, admins, always},
		{"PUT /api/hl7-senders/{sending}", withBody(a.putHL7Sender), admins, always},
		{"DELETE /api/hl7-senders/{sending}", a.deleteHL7Sender, admins, always},
		// oncall.go
		{"GET /api/oncall/{subspecialty}", a.getOnCall, nil, always},
		{"PUT /api/oncall/{subspecialty}", withBody(a.putOnCall), staff, always},
		// warnings.go
		{"GET /api/warnings", a.listWarnings, staff, archive},
		// facilities.go
		{"PUT /api/facilities/{id}", withSetupBody(a.putFacility), admins, always},
		{"POST /api/facilities/import", a.importFacilities, admins, always},
		{"GET /api/facilities/export", a.exportFacilities, admins, always},
		// endpoints.go
		{"GET /api/facilities/{id}/endpoints", a.listEndpoints, admins, always},
		{"PUT /api/facilities/{id}/endpoints/{kind}", withSetupBody(a.putEndpoint), admins, always},
		{"DELETE /api/facilities/{id}/endpoints/{kind}", a.deleteEndpoint, admins, always},
		{"POST /api/facilities/{id}/endpoints/{kind}/test", a.testEndpoint, admins, always},
		// shifts.go
		{"GET /api/readers/{id}/shifts", a.getShifts, nil, always},
		{"PUT /api/readers/{id}/shifts", withSetupBody(a.putShifts), staff, always},
		{"POST /api/readers/{id}/blocks", withSetupBody(a.addBlock), staff, always},
		{"GET /api/shifts/export", a.exportShifts, staff, always},
		{"POST /api/shifts/import", a.importShifts, staff, always},
		{"GET /api/worklist/extra-work", a.getExtraWork, readers, always},
		{"PUT /api/worklist/extra-work", withSetupBody(a.putExtraWork), readers, always},
		// preferences.go
		{"GET /api/preferences", a.getPreferences, nil, always},
		{"PUT /api/preferences", withBody(a.putPreferences), nil, always},
		// notices.go
		{"GET /api/notices", a.notices, nil, notify},
		{"POST /api/notices/{id}/read", a.readNotice, nil, notify},
		{"GET /api/notify/preferences/{recipient}", a.getPref, nil, notify},
		{"PUT /api/notify/preferences/{recipient}", a.putPref, nil, notify},
		{"GET /api/notify/log", a.notifyLog, admins, notify},
		// coverage.go
		{"GET /api/coverage/gaps", a.coverageGaps, staff, always},
		// dashboard.go
		{"GET /api/dashboard/volume", a.volume, staff, always},
		{"GET /api/dashboard/discrepancy", a.discrepancy, staff, always},
		// station.go
		{"POST /api/station/checks", withBody(a.recordCheck), nil, always},
		{"GET /api/station/checks/latest", a.latestCheck, nil, always},
		{"GET /api/station/probe", a.probe, nil, always},
		// keyimages.go
		{"GET /api/studies/{study}/key-images", a.listKeyImages, nil, always},
		{"POST /api/studies/{study}/key-images", withBodyOf(a.seesStudy, a.addKeyImage), readers, always},
		{"DELETE /api/studies/{study}/key-images/{id}", a.deleteKeyImage, readers, always},
		// breakglass.go
		{"POST /api/studies/{study}/break-glass", withBody(a.breakGlass), readers, glass},
		{"GET /api/break-glass", a.breakGlassGrants, admins, glass},
		// priors.go
		{"GET /api/studies/{study}/priors", a.studyPriors, nil, always},
		{"GET /api/pacs", a.listPACS, staff, always},
		{"PUT /api/facilities/{id}/pacs", withBody(a.putPACS), admins, always},
		{"DELETE /api/facilities/{id}/pacs", a.deletePACS, admins, always},
		// retention.go
		{"GET /api/retention/holds", a.listHolds, admins, retention},
		{"POST /api/retention/holds", withBody(a.addHold), admins, retention},
		{"DELETE /api/retention/holds/{id}", a.removeHold, admins, retention},
		{"POST /api/retention/run", withBody(a.runRetention), admins, retention},
		{"PUT /api/facilities/{id}/retention", withBody(a.putRetention), admins, retention},
		// peerreview.go
		{"GET /api/peer-review/policy", a.peerPolicy, nil, always},
		{"PUT /api/peer-review/policy", a.peerPolicy, staff, always},
		{"POST /api/peer-review/draw", withBody(a.peerDraw), staff, always},
		{"GET /api/peer-reviews", a.peerList, members, always},
		{"POST /api/peer-reviews/{id}/score", a.peerScore, readers, always},
		{"POST /api/peer-reviews/{id}/arbitrate", a.peerArbitrate, readers, always},
		{"GET /api/peer-review/rates", a.peerRates, members, always},
		{"GET /api/peer-review/export.csv", a.peerExport, staff, always},
		// teaching.go
		{"POST /api/studies/{study}/teaching", withBodyOf(a.seesStudy, a.shareTeaching), readers, archive},
		{"GET /api/teaching", a.listTeaching, members, archive},
		{"GET /api/teaching/{id}", a.getTeaching, members, archive},
		{"GET /api/teaching/{id}/instances/{n}", a.teachingInstance, members, archive},
		// irconsults.go
		{"GET /api/ir-consults", a.listIRConsults, irParties, always},
		{"POST /api/ir-consults", withBody(a.requestConsult), irRequesters, always},
		{"GET /api/ir-consults/{id}", shown(a.consult), irParties, always},
		{"POST /api/ir-consults/{id}/accept", a.consultStep("accept"), readers, always},
		{"POST /api/ir-consults/{id}/recommend", a.consultStep("recommend"), readers, always},
		{"POST /api/ir-consults/{id}/close", a.consultStep("close"), readers, always},
		{"GET /api/ir-consults/{id}/fhir", a.consultFHIR, irParties, always},
		// tumorboards.go
		{"GET /api/tumor-boards", a.listBoards, nil, always},
		{"POST /api/tumor-boards", withBody(a.createBoard), members, always},
		{"GET /api/tumor-boards/{id}", a.getBoard, nil, always},
		{"POST /api/tumor-boards/{id}/cases", withBodyOf(a.board, a.addBoardCase), nil, always},
		{"PUT /api/tumor-boards/{id}/cases/{case}", a.updateBoardCase, nil, always},
		// mentoring.go
		{"GET /api/mentoring/policy", a.mentorPolicy, nil, always},
		{"PUT /api/mentoring/policy", a.mentorPolicy, staff, always},
		{"PUT /api/mentoring/readers/{id}", withBody(a.putMentorStart), staff, always},
		{"GET /api/mentoring/overreads", a.overReads, readers, always},
		{"POST /api/mentoring/overreads/{id}/comment", a.commentOverRead, readers, always},
		// audit.go
		{"GET /api/audit/patient", a.patientAccesses, admins, audit},
		{"POST /api/audit/patient", withBody(a.patientAccessesPost), admins, audit},
		// console.go
		{"GET /api/roster/week", a.rosterWeek, staff, always},
		{"POST /api/roster/changes", withSetupBody(a.rosterChange), staff, always},
		{"POST /api/simulate/ahead", a.simulateAhead, staff, always},
		{"GET /api/dashboard/tat", a.dashTAT, staff, always},
		{"GET /api/dashboard/rvu", a.dashRVU, staff, always},
		{"GET /api/dashboard/me", a.dashMe, readers, always},
		{"GET /api/coverage/console", a.coverageConsole, staff, always},
		// room.go
		{"GET /api/room", a.room, nil, consults},
		{"PUT /api/room/status", withBody(a.setRoomStatus), readers, consults},
		{"POST /api/room/messages", withBody(a.postRoom), readers, consults},
		{"GET /api/room/events", a.roomEvents, nil, consults},
		// consults.go
		{"POST /api/studies/{study}/consults", withBodyOf(a.seesStudy, a.askConsult), readers, consults},
		{"GET /api/studies/{study}/consults", a.listConsults, readers, consults},
		{"GET /api/studies/{study}/consults/{id}", a.getConsult, readers, consults},
		{"POST /api/studies/{study}/consults/{id}/messages", withBodyOf(a.consultFor, a.sayConsult), readers, consults},
		{"POST /api/studies/{study}/consults/{id}/opinion", a.opineConsult, readers, consults},
		{"POST /api/studies/{study}/consults/{id}/signal", a.signalConsult, readers, consults},
		{"GET /api/studies/{study}/consults/{id}/events", a.consultEvents, readers, consults},
		{"GET /api/consults", a.myConsults, readers, consults},
		{"GET /api/rtc", a.rtcConfig, nil, consults},
		// visits.go
		{"POST /api/studies/{study}/visits", a.inviteVisit, readers, consults},
		{"GET /api/studies/{study}/visits/{id}", shown(a.visitFor), readers, consults},
		{"POST /api/studies/{study}/visits/{id}/signal", a.signalVisit, readers, consults},
		{"GET /api/studies/{study}/visits/{id}/events", a.visitEvents, readers, consults},
		{"POST /api/studies/{study}/visits/{id}/end", a.endVisit, readers, consults},
	}
}
