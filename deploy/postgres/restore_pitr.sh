#!/usr/bin/env bash
# Restore the latest base backup into a NEW data directory and recover to a point in time.
# Usage: restore_pitr.sh DATA_DIR [TARGET_TIME]   e.g. '2026-03-02 09:15:00-03'
# Omit TARGET_TIME to recover to the end of the archive. Env: BARBERPRO_BACKUP_TO/KEY, and
# BARBERPRO_PG_WAL_STAGING=DIR to unseal the whole archive first and let PostgreSQL `cp` from
# it (when `barberpro` cannot run in the server's environment). Then: chown the directory
# to the server's user and `pg_ctl -D DATA_DIR start`.
set -euo pipefail
data="${1:?new data directory}"
target="${2:-}"
staging="${BARBERPRO_PG_WAL_STAGING:-}"
barberpro backup pg-get-base "$data"
chmod 700 "$data"
rm -f "$data/standby.signal" "$data/postmaster.pid"
if [ -n "$staging" ]; then
  barberpro backup pg-fetch-all-wal "$staging"
  restore_command="cp $staging/%f %p"
else
  restore_command="barberpro backup pg-fetch-wal %f %p"
fi
{
  echo "restore_command = '$restore_command'"
  if [ -n "$target" ]; then
    echo "recovery_target_time = '$target'"
    echo "recovery_target_action = 'promote'"
  fi
  # The restored server must not archive into the old timeline's place by accident.
  echo "archive_mode = off"
} >> "$data/postgresql.auto.conf"
touch "$data/recovery.signal"
