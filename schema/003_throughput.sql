-- 003: throughput tests.  A test is N packets of S bytes per direction; each
-- packet moved is one row of throughput_transfers, inserted as 'started'
-- before its first byte moves (so a packet is accepted once, enforced by the
-- primary key) and updated to 'ok' or 'failed' once the bytes have moved.
-- Stamps are microseconds since the epoch.
CREATE TABLE IF NOT EXISTS throughput_tests (
  id          BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  user_id     BIGINT UNSIGNED NOT NULL,
  direction   ENUM('download','upload','both') NOT NULL,
  packets     INT UNSIGNED NOT NULL COMMENT 'per direction',
  packet_size BIGINT UNSIGNED NOT NULL COMMENT 'bytes',
  client      TEXT NULL COMMENT 'the client description, serialized JSON',
  state       ENUM('incomplete','complete','aborted') NOT NULL DEFAULT 'incomplete',
  created_at  BIGINT NOT NULL,
  finished_at BIGINT NULL COMMENT 'when it became complete or aborted',
  PRIMARY KEY (id),
  KEY throughput_tests_user (user_id, id),
  CONSTRAINT throughput_tests_user_fk FOREIGN KEY (user_id)
    REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS throughput_transfers (
  test_id            BIGINT UNSIGNED NOT NULL,
  direction          ENUM('download','upload') NOT NULL,
  seq                INT UNSIGNED NOT NULL,
  status             ENUM('started','ok','failed') NOT NULL DEFAULT 'started',
  bytes              BIGINT UNSIGNED NOT NULL DEFAULT 0 COMMENT 'bytes moved',
  server_started_at  BIGINT NOT NULL COMMENT 'first byte (claim time while started)',
  server_finished_at BIGINT NULL COMMENT 'last byte handed over or received',
  client_sent_at     BIGINT NULL COMMENT 'reported by the client',
  client_received_at BIGINT NULL COMMENT 'reported by the client',
  PRIMARY KEY (test_id, direction, seq),
  CONSTRAINT throughput_transfers_test_fk FOREIGN KEY (test_id)
    REFERENCES throughput_tests (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
