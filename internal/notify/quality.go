package notify

// Events of the quality and collaboration programmes (issue #20).
const (
	PeerReview  = "quality.peer_review"  // a peer review to score or arbitrate, or its outcome for the author
	Mentoring   = "quality.mentoring"    // an over-read to do, or a mentor's comment for the author
	IRConsult   = "consult.ir"           // an IR teleconsult request, or its recommendation and decision
	TumorBoard  = "tumor_board.access"   // a temporary access grant for a tumor board
	TeachingAdd = "quality.teaching_add" // a case was added to the teaching file
)
