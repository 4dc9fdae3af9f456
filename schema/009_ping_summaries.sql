-- 009: a ping test's summary goes to a row of its own, inserted when the
-- test ends, so that ending a test writes its row in place (state and
-- closed_at, see 008) instead of growing it by the summary's text.
CREATE TABLE IF NOT EXISTS ping_summaries (
  test_id BIGINT UNSIGNED NOT NULL,
  summary TEXT NOT NULL COMMENT 'JSON summary stored when the test ends',
  PRIMARY KEY (test_id),
  CONSTRAINT ping_summaries_test_fk FOREIGN KEY (test_id)
    REFERENCES ping_tests (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
INSERT IGNORE INTO ping_summaries (test_id, summary)
  SELECT id, summary FROM ping_tests WHERE summary IS NOT NULL;
-- ping_tests.summary stays: the release before this one reads it, and its
-- workers run against this schema until they are restarted.  It is dropped
-- by a later release's migration (expand, then contract).
