-- 006: latency under load.  A throughput test carries probes: echoes with
-- the four stamps of a ping sample, each tagged with the phase of the test
-- it was sent in.  The server's stamps are NULL for a probe the client
-- reported lost before it reached the server; client_received_at is NULL
-- for a probe without an answer (lost once the client has said so, or the
-- test has ended).  simultaneous: both directions' packets move at once
-- (phase bidirectional).
CREATE TABLE IF NOT EXISTS throughput_probes (
  test_id            BIGINT UNSIGNED NOT NULL,
  seq                INT UNSIGNED NOT NULL,
  phase              ENUM('idle','download','upload','bidirectional') NOT NULL,
  client_sent_at     BIGINT NOT NULL,
  server_received_at BIGINT NULL,
  server_sent_at     BIGINT NULL,
  client_received_at BIGINT NULL,
  PRIMARY KEY (test_id, seq),
  CONSTRAINT throughput_probes_test_fk FOREIGN KEY (test_id)
    REFERENCES throughput_tests (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

ALTER TABLE throughput_tests
  ADD COLUMN IF NOT EXISTS simultaneous TINYINT(1) NOT NULL DEFAULT 0
    COMMENT 'direction both, download and upload at once'
    AFTER direction;
