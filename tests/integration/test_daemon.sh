#!/usr/bin/env bash
# The daemon itself: first start writes the admin key once, 2xx writes survive
# kill -9, SIGTERM exits cleanly, /healthz and /metrics, flags, TLS.
source "$(dirname "$0")/lib.sh"

rg_start
grep -q "first start: created tenant 'default'" "$RG_TMP/daemon.log" && pass || fail "first start message"
mode=$(stat -c %a "$RG_TMP/var/admin.key")
expect_eq "$mode" 600 "admin key file mode"
expect_eq "$(stat -c %a "$RG_TMP/var/riskgate.db")" 600 "the database is private"
key1=$RG_KEY
sum1=$(sha256sum "$RG_TMP/var/admin.key")

api GET /healthz "" ""
expect_status 200 "healthz without a key"
api POST /beta/deviceAppManagement/iosManagedAppProtections '{"displayName":"durable","minimumPinLength":6}'
expect_status 201 "write before kill -9"
id=$(jq -r .id <<<"$BODY")
api POST /v1.0/users '{"userPrincipalName":"d@x.y"}'
expect_status 201 "user before kill -9"
rg_kill9

rg_start
if grep -q "first start" "$RG_TMP/daemon.log"; then fail "a later start printed the first-start message"; else pass; fi
expect_eq "$(sha256sum "$RG_TMP/var/admin.key")" "$sum1" "a later start does not rewrite the key file"
expect_eq "$RG_KEY" "$key1" "same key"
api GET "/beta/deviceAppManagement/iosManagedAppProtections/$id"
expect_status 200 "the policy survived kill -9"
expect_eq "$(jq -r .minimumPinLength <<<"$BODY")" 6 "with its values"
api GET "/v1.0/users/d@x.y"
expect_status 200 "the user survived kill -9"

api GET /metrics "" ""
expect_status 200 "metrics"
grep -q 'riskgate_http_requests_total{method="GET",route="/{v}/users/{}",status="200"} 1' <<<"$BODY" && pass \
  || fail "metrics count by route and status: $BODY"
grep -q 'riskgate_http_request_duration_seconds_bucket{method="GET",route="/{v}/users/{}",status="200",le="+Inf"} 1' <<<"$BODY" \
  && pass || fail "latency histogram"
wait_until 2 grep -q 'route=/{v}/users/{} path=/v1.0/users/d@x.y status=200 ms=[0-9.]* tenant=default' "$RG_TMP/daemon.log" && pass \
  || fail "access log line with route, status, duration and tenant"
# no request can forge a log line; a path is decoded once
api GET "/v1.0/users/x%0Alevel=error%20msg=FORGED" "" ""
if grep -q '^level=error msg=FORGED\|^[^ ]* level=error msg=FORGED' "$RG_TMP/daemon.log"; then fail "a request forged a log line"; else pass; fi
api GET "/v1.0/users/d%2540x.y"
expect_status 404 "%2540 is not decoded twice"
api GET "/v1.0/users/d%40x.y"
expect_status 200 "%40 is decoded once"
rg_stop
sqlite3 "$RG_TMP/var/riskgate.db" 'PRAGMA journal_mode' | grep -q wal && pass || fail "WAL mode"
expect_eq "$(sqlite3 "$RG_TMP/var/riskgate.db" 'SELECT count(*) > 0 AND count(*) = max(version) FROM schema_migrations')" 1 \
  "every migration recorded once, in order"

# JSON logs
rg_start --log-format json
api GET /healthz "" ""
rg_stop
grep '"route":"/healthz"' "$RG_TMP/daemon.log" | jq -e '.status == 200 and .method == "GET"' >/dev/null && pass || fail "json access log"

# bad usage exits 2 with a message
rc=0; "$RG_BIN_DIR/riskgated" --nope 2>"$RG_TMP/err" || rc=$?
expect_eq "$rc" 2 "unknown flag exit code"
grep -q "unknown option" "$RG_TMP/err" && pass || fail "unknown flag message"
rc=0; "$RG_BIN_DIR/riskgated" --db "mysql:x" --admin-key-file "$RG_TMP/k" 2>"$RG_TMP/err" || rc=$?
expect_eq "$rc" 2 "unsupported database exit code"
rc=0; "$RG_BIN_DIR/riskgated" --log-format xml 2>/dev/null || rc=$?
expect_eq "$rc" 2 "bad --log-format"
"$RG_BIN_DIR/riskgated" --help | grep -q -- "--admin-key-file" && pass || fail "--help lists options"

# config file, flags override it
printf 'listen = 127.0.0.1:1\n# comment\nlog-format = json\n' >"$RG_TMP/riskgated.conf"
rg_start --config "$RG_TMP/riskgated.conf" --listen 127.0.0.1:0
grep -q '"msg":"riskgated listening' "$RG_TMP/daemon.log" && pass || fail "config file applied (json logs)"
rg_stop

# SIGTERM while a client holds an idle keep-alive connection: a clean exit, not an abort
rg_start
python3 -c '
import http.client, sys, time, urllib.parse
u = urllib.parse.urlparse(sys.argv[1])
c = http.client.HTTPConnection(u.hostname, u.port)
c.request("GET", "/healthz")
c.getresponse().read()
time.sleep(30)
' "$RG_URL" &
idle=$!
sleep 0.5
rg_stop
kill "$idle" 2>/dev/null || true
pass

# TLS
if command -v openssl >/dev/null; then
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$RG_TMP/key.pem" -out "$RG_TMP/cert.pem" -days 1 \
    -subj /CN=127.0.0.1 >/dev/null 2>&1
  rg_start --tls-cert "$RG_TMP/cert.pem" --tls-key "$RG_TMP/key.pem"
  [[ $RG_URL == https://* ]] && pass || fail "https URL: $RG_URL"
  out=$(curl -s --cacert "$RG_TMP/cert.pem" "$RG_URL/healthz")
  expect_eq "$out" '{"status":"ok"}' "healthz over TLS"
  rg_stop
else
  skip_part --installed "TLS: openssl not installed (Debian openssl; scripts/install-deps.sh installs it)"
fi
finish
