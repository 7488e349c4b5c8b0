#!/usr/bin/env bash
# Create a streaming standby from the primary (a physical slot keeps the WAL it needs).
# Usage: standby.sh DATA_DIR NAME "host=... port=... user=replicator"
# Then name it in the primary's synchronous_standby_names and start it.
set -euo pipefail
data="${1:?standby data directory}"
name="${2:?application name, e.g. standby1}"
conninfo="${3:?primary connection string}"
pg_basebackup -d "$conninfo application_name=$name" -D "$data" -Fp -X stream -R \
  -C -S "${name}_slot" --checkpoint=fast
chmod 700 "$data"
