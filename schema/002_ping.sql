-- 002: ping tests and their samples (the four stamps, microseconds since
-- the epoch).  A sample row exists once the server has echoed it;
-- client_received_at arrives with its receipt.
CREATE TABLE IF NOT EXISTS ping_tests (
  id          BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  user_id     BIGINT UNSIGNED NOT NULL,
  state       ENUM('incomplete','complete','aborted') NOT NULL DEFAULT 'incomplete',
  count       INT UNSIGNED NOT NULL,
  interval_ms INT NULL,
  client      TEXT CHARACTER SET utf8mb4 NULL COMMENT 'the client''s description, JSON',
  created_at  BIGINT NOT NULL,
  closed_at   BIGINT NULL,
  summary     TEXT NULL COMMENT 'JSON summary stored when the test ends',
  PRIMARY KEY (id),
  KEY ping_tests_user (user_id, id),
  CONSTRAINT ping_tests_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS ping_samples (
  test_id            BIGINT UNSIGNED NOT NULL,
  seq                INT UNSIGNED NOT NULL,
  client_sent_at     BIGINT NOT NULL,
  server_received_at BIGINT NOT NULL,
  server_sent_at     BIGINT NOT NULL,
  client_received_at BIGINT NULL,
  PRIMARY KEY (test_id, seq),
  CONSTRAINT ping_samples_test_fk FOREIGN KEY (test_id) REFERENCES ping_tests (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
