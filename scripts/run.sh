#!/usr/bin/env bash
# `make run`: starts riskgated on the embedded default (SQLite under ./var/) in the foreground.
# Override with RISKGATE_LISTEN=ADDR:PORT or extra flags after `--`: scripts/run.sh build/riskgated --log-format json
set -euo pipefail
bin=${1:-build/riskgated}; shift || true
listen=${RISKGATE_LISTEN:-127.0.0.1:8443}
mkdir -p -m 0700 var
key=./var/admin.key
cat >&2 <<MSG
riskgate: starting riskgated on http://$listen (database ./var/riskgate.db)
riskgate: the admin API key is in $key (written on first start, mode 0600). Try:
  export RISKGATE_URL=http://$listen RISKGATE_TOKEN=\$(cat $key)
  build/riskgate policies list
  curl -H "Authorization: Bearer \$(cat $key)" http://$listen/beta/deviceAppManagement/managedAppPolicies
riskgate: stop with Ctrl-C.
MSG
exec "$bin" --listen "$listen" --db sqlite:./var/riskgate.db --admin-key-file "$key" --signing-key-file ./var/signing.key "$@"
