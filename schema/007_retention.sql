-- 007: the retention pass (lib/store/data.c) finds the oldest tests by
-- created_at without scanning every test.
CREATE INDEX IF NOT EXISTS ping_tests_created ON ping_tests (created_at);
CREATE INDEX IF NOT EXISTS throughput_tests_created ON throughput_tests (created_at);
