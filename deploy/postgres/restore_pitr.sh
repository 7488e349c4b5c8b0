#!/usr/bin/env bash
# Restore the latest base backup into a NEW data directory and recover to a point in time.
# Usage: restore_pitr.sh DATA_DIR [TARGET_TIME]   e.g. '2026-03-02 09:15:00-03'
# Omit TARGET_TIME to recover to the end of the archive. Then: pg_ctl -D DATA_DIR start
set -euo pipefail
data="${1:?new data directory}"
target="${2:-}"
barberpro backup pg-get-base "$data"
chmod 700 "$data"
rm -f "$data/standby.signal" "$data/backup_manifest"
{
  echo "restore_command = 'barberpro backup pg-fetch-wal %f %p'"
  if [ -n "$target" ]; then
    echo "recovery_target_time = '$target'"
    echo "recovery_target_action = 'promote'"
  fi
  # The restored server must not archive into the old timeline's place by accident.
  echo "archive_mode = off"
} >> "$data/postgresql.auto.conf"
touch "$data/recovery.signal"
