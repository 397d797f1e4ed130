// Package netserve holds what the DICOM, MLLP and HTTP listeners share to
// stay available to legitimate peers when strangers open sockets: a
// connection limiter counting per remote address and in total, and a
// listener that closes connections over the limit at once, and the
// network allowlists (CIDR lists) the AE and HL7 sender registries share;
// and the accept loop (Acceptor: retry with backoff over temporary errors)
// and listener set (Listeners, closed by Close/Shutdown) the DIMSE and MLLP
// servers share.
package netserve
