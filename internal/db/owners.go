package db

// TableOwners maps every table to the one package that may run SQL on it.
// Everyone else calls that package's Go API, so a table's invariants live in
// one place and a schema change touches one package. TestTableOwners (in
// owners_test.go) scans the tree and fails when SQL naming a table appears
// outside its owner (ReadOnlyReaders below are the only readers allowed).
var TableOwners = map[string]string{
	"api_token":           "auth",
	"app_session":         "auth",
	"app_user":            "auth",
	"user_facility":       "auth",
	"assignment_event":    "dispatch",
	"read_item":           "dispatch",
	"audit_event":         "audit",
	"audit_event_study":   "audit",
	"audit_forward":       "audit",
	"crit_ack_token":      "critical",
	"crit_attempt":        "critical",
	"crit_contact":        "critical",
	"crit_coverage":       "critical",
	"crit_event":          "critical",
	"crit_result":         "critical",
	"facility":            "facility",
	"facility_contract":   "roster",
	"facility_endpoint":   "outbox",
	"hl7_outbox":          "outbox",
	"hl7_outbox_attempt":  "outbox",
	"hl7_dead_letter":     "order",
	"order_event":         "order",
	"order_unmatched":     "order",
	"orders":              "order",
	"patient_conflict":    "order",
	"protocol":            "order",
	"instance":            "archive",
	"instance_duplicate":  "archive",
	"ingest_journal":      "archive",
	"series":              "archive",
	"study":               "archive",
	"patient":             "archive",
	"mpps":                "dicomsvc",
	"stgcmt_request":      "dicomsvc",
	"oncall":              "roster",
	"reader":              "roster",
	"remote_ae":           "ae",
	"report":              "report",
	"report_discrepancy":  "report",
	"report_facility":     "report",
	"report_macro":        "report",
	"report_pay_rate":     "report",
	"report_version":      "report",
	"setting":             "demo",
	"instance_quarantine": "archive",
	"instance_warning":    "archive",
	"hl7_sender":          "hl7sender",
	"reader_pref":         "station",
	"setup_stamp":         "setup",
	"notify_pref":         "notify",
	"notify_delivery":     "notify",
	"engine_call":         "cluster",
	"live_relay":          "cluster",
	"station_check":       "station",
	"key_image":           "keyimage",
	"break_glass":         "breakglass",
	"prior_source":        "priors",
	"prior_fetch":         "priors",
	"prior_link":          "priors",
	"legal_hold":          "retention",
	"retention_timer":     "retention",
	"blob_delete":         "archive",
	"peer_review_policy":  "peerreview",
	"peer_review":         "peerreview",
	"peer_review_draw":    "peerreview",
	"teaching_case":       "teaching",
	"teaching_instance":   "teaching",
	"ir_consult":          "irconsult",
	"tumor_board":         "tumorboard",
	"tumor_board_case":    "tumorboard",
	"tumor_board_grant":   "tumorboard",
	"mentor_policy":       "mentor",
	"mentor_reader":       "mentor",
	"mentor_overread":     "mentor",
	"domain_event":        "event",
	"room_status":         "consult",
	"room_message":        "consult",
	"consult":             "consult",
	"consult_message":     "consult",
	"clinic_visit":        "consult",
}

// ReadOnlyReaders may read (never write) the tables listed for them: the
// C-FIND/QIDO planner compiles arbitrary matching keys into SQL over the
// imaging tables the archive owns, which no narrow Go API could express.
//
// scope is the one SQL-clause builder of the access rule: its clauses read
// study (a patient is visible through its studies) and orders (a referring
// clinician sees the studies they ordered). archive's patient namespace
// check reads which facilities hold orders for a patient, so an image never
// links to another facility's patient (package order imports archive for
// the same check, so archive cannot call it), and so does its patient search
// (FindPatients: a patient is visible through its orders or studies).
var ReadOnlyReaders = map[string][]string{
	"query":   {"patient", "study", "series", "instance"},
	"scope":   {"study", "orders"},
	"archive": {"orders"},
}
