// Package netserve holds what the DICOM, MLLP and HTTP listeners share to
// stay available to legitimate peers when strangers open sockets: a
// connection limiter counting per remote address and in total, and a
// listener that closes connections over the limit at once, and the
// network allowlists (CIDR lists) the AE and HL7 sender registries share.
package netserve
