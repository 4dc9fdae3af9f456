-- 012: deleting every test of a user runs in the background once it takes
-- longer than its request may: its progress is a row per user, read by
-- GET /api/v1/tests/deletion from any host and taken up again by the
-- background thread when the worker running it went away.  A new table
-- only (expand).
CREATE TABLE IF NOT EXISTS test_deletions (
  user_id      BIGINT UNSIGNED NOT NULL,
  state        ENUM('running','done') NOT NULL,
  ping_deleted BIGINT UNSIGNED NOT NULL DEFAULT 0,
  tp_deleted   BIGINT UNSIGNED NOT NULL DEFAULT 0,
  started_at   BIGINT NOT NULL,
  updated_at   BIGINT NOT NULL COMMENT 'the last progress written',
  finished_at  BIGINT NULL,
  PRIMARY KEY (user_id),
  KEY test_deletions_running (state, updated_at),
  CONSTRAINT test_deletions_user_fk FOREIGN KEY (user_id)
    REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 ROW_FORMAT=REDUNDANT;
