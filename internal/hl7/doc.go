// Package hl7 parses and builds HL7 version 2 messages (2.3 to 2.5.1) and
// carries them over MLLP.
//
// It is a pure protocol package: it knows about delimiters, escaping,
// segments, data types, acknowledgements and framing, but nothing about
// Lightbox's database or domain rules. Callers parse an inbound message with
// [Parse], read it through path accessors ([Message.Get]) or typed segments
// ([PID], [ORC], [OBR], …), report problems as [*Error] values and turn them
// into acknowledgements with [NewACK] / [NewNAK]. [Server] and [Client]
// speak MLLP (0x0B … 0x1C 0x0D) over TCP or TLS.
//
// # Paths
//
// Paths follow the HAPI "terser" notation:
//
//	SEG[(occurrence)]-field[(repetition)][-component[-subcomponent]]
//
// All indexes are 1-based, occurrence and repetition default to 1, and '.'
// may be used instead of '-' after the field ("OBR-4.2" == "OBR-4-2").
// Examples: "PID-5-1", "PID-3(2)-4-1", "OBX(3)-5", "MSH-9-2".
// MSH-1 is the field separator itself and MSH-2 the encoding characters,
// so MSH field numbers match the standard.
//
// [Message.Get] always returns one decoded leaf value: a path that stops at a
// field or component addresses its first component / subcomponent, as in
// HAPI. [Message.GetRaw] returns the still-escaped wire text of exactly the
// addressed element (a whole field with all repetitions, one repetition, …).
//
// # Nulls
//
// An empty field means "no value / not sent"; the two-character value `""`
// is HL7's explicit null ("delete the stored value"). Get returns "" for
// both; use [Message.IsNull] to tell them apart and [Message.SetNull] to
// send one.
//
// # Logging
//
// Messages carry patient data. Nothing in this package logs message
// content, and [Error] messages never quote field values: logs carry control
// IDs, message types, sizes, remote addresses and error codes only.
package hl7
