-- 010: time-bounded throughput tests.  A test either has `packets` packets
-- of `packet_size` bytes per direction (duration_ms NULL) or moves packets
-- of any size for duration_ms per direction (packets 0, packet_size 0 when
-- the client gave none).  A direction's clock starts at its first claimed
-- packet: <direction>_started_at, set once.  Nullable columns only, so the
-- previous release's statements, which name their columns, keep working.
ALTER TABLE throughput_tests
  ADD COLUMN IF NOT EXISTS duration_ms INT UNSIGNED NULL
    COMMENT 'time-bounded tests: the time per direction',
  ADD COLUMN IF NOT EXISTS download_started_at BIGINT NULL
    COMMENT 'time-bounded tests: the first download packet claimed',
  ADD COLUMN IF NOT EXISTS upload_started_at BIGINT NULL
    COMMENT 'time-bounded tests: the first upload packet claimed';
