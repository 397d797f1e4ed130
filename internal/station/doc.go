// Package station keeps what belongs to a reader's reading station rather
// than to a study: their key map (dictation microphones' buttons arrive as
// key presses) and break-reminder settings. It owns the reader_pref table.
package station
