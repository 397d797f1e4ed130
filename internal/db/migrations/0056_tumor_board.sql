-- Tumor boards: the board, its cases (presenter notes, recommendation)
-- and the temporary access grants of participants from outside the
-- facility's privileges, which expire after the board.
CREATE TABLE tumor_board (
  pk {{pk}},
  title TEXT NOT NULL,
  starts_at TEXT NOT NULL,
  ends_at TEXT NOT NULL,
  disciplines TEXT NOT NULL,
  participants TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE TABLE tumor_board_case (
  pk {{pk}},
  board_pk BIGINT NOT NULL,
  study_uid TEXT NOT NULL,
  facility_id TEXT NOT NULL,
  presenter TEXT NOT NULL,
  notes TEXT NOT NULL DEFAULT '',
  recommendation TEXT NOT NULL DEFAULT '',
  updated_at TEXT NOT NULL
);
CREATE INDEX tumor_board_case_board ON tumor_board_case(board_pk);
CREATE TABLE tumor_board_grant (
  pk {{pk}},
  board_pk BIGINT NOT NULL,
  username TEXT NOT NULL,
  study_uid TEXT NOT NULL,
  facility_id TEXT NOT NULL,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL
);
CREATE INDEX tumor_board_grant_user ON tumor_board_grant(username, expires_at);
