-- A reader's station preferences (key map for dictation-microphone buttons
-- and keyboard, break reminders), one JSON document per user.
CREATE TABLE reader_pref (
  username TEXT PRIMARY KEY,
  doc TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
