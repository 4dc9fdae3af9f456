-- 005: when the first byte of a download reached the client (the response's
-- head), reported by the client: with client_received_at it brackets the
-- bytes where they arrive, which is where a download's rate is measured.
ALTER TABLE throughput_transfers
  ADD COLUMN IF NOT EXISTS client_first_byte_at BIGINT NULL
    COMMENT 'reported by the client, downloads only'
    AFTER client_sent_at;
