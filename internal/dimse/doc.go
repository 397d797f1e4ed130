// Package dimse implements the DICOM network protocol: the upper layer
// (PS3.8: PDUs, the association state machine, negotiation, P-DATA
// fragmentation) and the DIMSE message exchange (PS3.7) for Verification,
// Storage, Query/Retrieve (C-FIND, C-MOVE, C-GET) and the normalized
// N-CREATE/N-SET/N-ACTION/N-EVENT-REPORT operations.
//
// It is a pure protocol package: data sets travel as opaque bytes in the
// negotiated transfer syntax and are never interpreted here. Incoming
// C-STORE data is streamed from the socket to the handler without being
// buffered whole: the association's reader goroutine reads each PDV of a
// data set straight into the buffer the handler's Read passes (dataPipe),
// never into a PDU buffer first. A Server accepts associations and routes requests by SOP
// class through a Mux; Dial opens an association as SCU.
//
// Logs never contain data set contents (patient data): only AE titles,
// SOP class and transfer syntax UIDs, statuses and sizes.
package dimse
