-- 011: revoked bearer tokens.  A token is refused once its jti is in
-- revoked_tokens (logout), or once its user has a revoked_users row whose
-- tokens_valid_after is at or after the token's iat (logout-all, a password
-- change, a user's deletion).  Neither table names users in a foreign key:
-- a deleted user's revocation must outlive the user's row, since the echo
-- and the packet routes never look the user up.  Every worker host polls
-- both tables by revoked_at (hence its index) into memory shared by its
-- processes (lib/shm/revtab.c); a row is deleted once expires_at is past,
-- as every token it refuses has expired by then.  New tables only, so the
-- previous release's workers run against this schema unchanged.
CREATE TABLE IF NOT EXISTS revoked_tokens (
  jti        VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL
    COMMENT 'the token''s jti claim',
  user_id    BIGINT UNSIGNED NOT NULL,
  issued_at  BIGINT NOT NULL COMMENT 'the token''s iat, seconds since the epoch',
  expires_at BIGINT NOT NULL COMMENT 'the token''s exp, seconds since the epoch',
  revoked_at BIGINT NOT NULL COMMENT 'microseconds since the epoch',
  PRIMARY KEY (jti),
  KEY revoked_tokens_revoked (revoked_at),
  KEY revoked_tokens_expires (expires_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE IF NOT EXISTS revoked_users (
  user_id            BIGINT UNSIGNED NOT NULL,
  tokens_valid_after BIGINT NOT NULL
    COMMENT 'seconds since the epoch: a token whose iat is not after it is refused',
  expires_at         BIGINT NOT NULL
    COMMENT 'seconds: every token the row refuses has expired by then',
  revoked_at         BIGINT NOT NULL COMMENT 'microseconds since the epoch',
  PRIMARY KEY (user_id),
  KEY revoked_users_revoked (revoked_at),
  KEY revoked_users_expires (expires_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
