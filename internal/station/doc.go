// Package station keeps what belongs to a reader's reading station rather
// than to a study: their key map (dictation microphones' buttons arrive as
// key presses), break-reminder settings, and the daily display and
// connection checks recorded from the browser. It owns the reader_pref and
// station_check tables.
package station
