#!/usr/bin/env bash
# Take a base backup of the primary, verify it, and seal it into the backup location.
# Usage: base_backup.sh "host=... port=... user=replicator"   (env: BARBERPRO_BACKUP_TO/KEY)
set -euo pipefail
conninfo="${1:?connection string}"
label="base-$(date -u +%Y%m%dT%H%M%SZ)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# -X none: the WAL needed to make the backup consistent comes from the archive, which
# restore_command reads; the manifest records a SHA-256 of every file.
pg_basebackup -d "$conninfo" -D "$work/data" -Fp -X none --checkpoint=fast \
  --manifest-checksums=SHA256 --label "$label"
pg_verifybackup --no-parse-wal "$work/data"
barberpro backup pg-put-base "$work/data" "$label"
