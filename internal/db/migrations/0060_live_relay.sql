-- Live events of one node's subscribers relayed to the others (package
-- cluster): a consult's chat, the shared viewer's viewport and pointer,
-- WebRTC signalling. The sender inserts a row and NOTIFYs its id; each
-- other node reads the row by id. Rows are short-lived (deleted a minute
-- after), so the table never grows; what must last is stored by its owner.
CREATE TABLE live_relay (
  id {{pk}},
  node TEXT NOT NULL,
  topic TEXT NOT NULL,
  payload TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX live_relay_created ON live_relay (created_at);
