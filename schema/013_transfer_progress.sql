-- 013: the last time a packet's worker moved its bytes.  A worker refreshes
-- it while a packet is `started` (every PINGOO_TP_PROGRESS_EVERY of moving
-- bytes, app/h_tp.c); the sweep (lib/store/tp.c, pingoo_tp_sweep) takes a
-- packet only once neither its start nor its last progress is within
-- tp_stale_after, so a long packet still moving is never recorded failed.
-- A nullable column the previous release's workers never name: they run
-- against this schema unchanged, and a packet they move has no progress, so
-- the sweep judges it by its start as before.
ALTER TABLE throughput_transfers
  ADD COLUMN IF NOT EXISTS server_progress_at BIGINT NULL
    COMMENT 'microseconds since the epoch: the worker last moved bytes'
    AFTER server_finished_at;
