-- 004: finding packets left `started` by a worker that died mid-transfer,
-- without scanning every transfer (lib/store/tp.c, pingoo_tp_sweep).
CREATE INDEX IF NOT EXISTS throughput_transfers_started
  ON throughput_transfers (status, server_started_at);
