#!/usr/bin/env bash
# test_cli.sh: drives the riskgate CLI against a real riskgated on 127.0.0.1
# (ephemeral port, temporary SQLite database): directory, policy import of
# Microsoft's framework policies, assignment, target apps, the effective-policy
# explanation, export/import round trip, and the documented exit codes.
#
# ctest sets RG_BIN_DIR (build dir), RG_SOURCE_DIR and RG_FIXTURES (tests/fixtures; its absence fails).
# Alone: RG_BIN_DIR=build bash tests/integration/test_cli.sh
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RG_BIN_DIR=${RG_BIN_DIR:-$here/../../build}
RG_FIXTURES=${RG_FIXTURES:-$here/../fixtures}
DAEMON=$RG_BIN_DIR/riskgated
CLI=$RG_BIN_DIR/riskgate

fail() {
    echo "test_cli: FAIL: $*" >&2
    if [ -n "${TMP:-}" ] && [ -s "$TMP/err" ]; then
        echo "--- last stderr of the CLI:" >&2
        cat "$TMP/err" >&2
    fi
    exit 1
}
step() { echo "test_cli: $*"; }

[ -x "$DAEMON" ] || fail "no daemon at $DAEMON (build first, or set RG_BIN_DIR)"
[ -x "$CLI" ] || fail "no CLI at $CLI (build first, or set RG_BIN_DIR)"
command -v jq >/dev/null || fail "jq is needed (scripts/install-deps.sh installs it)"

TMP=$(mktemp -d)
PID=
cleanup() {
    if [ -n "$PID" ]; then
        kill "$PID" 2>/dev/null || true
        wait "$PID" 2>/dev/null || true
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT

"$DAEMON" --listen 127.0.0.1:0 --db "sqlite:$TMP/db" --admin-key-file "$TMP/admin.key" --signing-key-file "$TMP/signing.key" 2>"$TMP/log" &
PID=$!
URL=
for _ in $(seq 1 100); do
    URL=$(sed -n 's/^riskgated: listening on \(http:\/\/[0-9.:]*\).*/\1/p' "$TMP/log" | head -n 1)
    [ -n "$URL" ] && break
    kill -0 "$PID" 2>/dev/null || fail "riskgated exited: $(cat "$TMP/log")"
    sleep 0.1
done
[ -n "$URL" ] || fail "riskgated did not print 'listening on' within 10 s: $(cat "$TMP/log")"
step "riskgated at $URL"

# rg ARGS...: the CLI as the tenant admin; stdout to $TMP/out, stderr to $TMP/err; returns its exit code.
rg() { "$CLI" --url "$URL" --token-file "$TMP/admin.key" "$@" >"$TMP/out" 2>"$TMP/err"; }
# ok ARGS...: must exit 0; prints nothing, leaves the output in $TMP/out.
ok() { rg "$@" || fail "'riskgate $*' exited $?"; }
# code WANT CMD...: CMD must exit WANT.
code() {
    local want=$1 got=0
    shift
    "$@" >"$TMP/out" 2>"$TMP/err" || got=$?
    local shown="$*"
    [ -z "${READER:-}" ] || shown=${shown//$READER/<reader key>}
    [ "$got" -eq "$want" ] || fail "'$shown' exited $got, expected $want"
}
has() { grep -q -- "$1" "$TMP/out" || fail "output of the last command lacks '$1': $(head -c 2000 "$TMP/out")"; }
err_has() { grep -q -- "$1" "$TMP/err" || fail "stderr of the last command lacks '$1': $(cat "$TMP/err")"; }

step "whoami"
ok whoami
has "role    admin"

step "users and groups"
ok users create --upn ada@contoso.com --name "Ada Lovelace"
has "created user ada@contoso.com"
ok users create --upn bob@contoso.com --name "Bob"
ok groups create --name Sales --description "Sales staff"
ok groups create --name Executives
ok groups add-member Sales ada@contoso.com
ok groups add-member Executives bob@contoso.com
ok groups members Sales
has "ada@contoso.com"

step "policies import"
FIX=$RG_FIXTURES/intune-app-protection
ls "$FIX"/*.json >/dev/null 2>&1 || fail "fixtures not found ($FIX): they live in tests/fixtures"
ok policies import "$FIX"
want=$(ls "$FIX"/*.json | wc -l)
[ "$want" -eq 6 ] || fail "six framework files in $FIX, found $want"
[ "$(grep -c '^imported .* as T_' "$TMP/out")" -eq "$want" ] || fail "expected $want imported lines: $(cat "$TMP/out")"
names=()
for f in "$FIX"/*.json; do names+=("$(jq -r .displayName "$f")"); done
# a file without @odata.type needs --platform
echo '{"displayName": "Test iOS basic", "pinRequired": true}' >"$TMP/ios.json"
code 2 "$CLI" --url "$URL" --token-file "$TMP/admin.key" policies import "$TMP/ios.json"
err_has "platform"
ok policies import "$TMP/ios.json" --platform ios
has "imported Test iOS basic as T_"
names+=("Test iOS basic")

step "policies list"
ok policies list
for n in "${names[@]}"; do has "$n"; done

POLICY=$("$CLI" --url "$URL" --token-file "$TMP/admin.key" policies list --platform android --json | jq -r '.value[0].id')
[ -n "$POLICY" ] && [ "$POLICY" != null ] || fail "no Android policy to work with"

step "assign $POLICY"
ok policies assign "$POLICY" --include Sales --exclude Executives
ok policies assignments "$POLICY"
grep -q "^include  *Sales" "$TMP/out" || fail "Sales is not included: $(cat "$TMP/out")"
grep -q "^exclude  *Executives" "$TMP/out" || fail "Executives is not excluded: $(cat "$TMP/out")"

step "target-apps"
ok policies target-apps "$POLICY" --app com.contoso.app --group-type selectedPublicApps
ok policies apps "$POLICY"
has "com.contoso.app"

step "effective"
ok effective ada@contoso.com --app com.contoso.app --platform android
grep -Eq '^pinRequired = true \(from policy .*\[T_' "$TMP/out" || fail "no explanation line for pinRequired: $(cat "$TMP/out")"
has "$POLICY"
ok effective bob@contoso.com --app com.contoso.app --platform android
has "no app protection policy applies"

step "export and re-import"
ok policies export "$POLICY" --out "$TMP/export"
file=$(ls "$TMP"/export/*.json)
[ "$(echo "$file" | wc -l)" -eq 1 ] || fail "expected one exported file, got: $file"
jq -e 'has("@odata.context") | not' "$file" >/dev/null || fail "the export keeps @odata.context"
ok policies import "$file"
COPY=$(sed -n 's/^imported .* as \(T_[^ ]*\)$/\1/p' "$TMP/out")
[ -n "$COPY" ] || fail "re-import printed no id: $(cat "$TMP/out")"
strip='del(.id, .createdDateTime, .lastModifiedDateTime, .version, ."@odata.context")'
ok policies get "$POLICY" --json
jq -S "$strip" "$TMP/out" >"$TMP/a.json"
ok policies get "$COPY" --json
jq -S "$strip" "$TMP/out" >"$TMP/b.json"
diff "$TMP/a.json" "$TMP/b.json" >"$TMP/diff" || fail "the re-imported policy differs: $(cat "$TMP/diff")"

step "reader key cannot write (exit 4)"
ok keys create --name ci-reader --role reader --json
READER=$(jq -r .key "$TMP/out")
[ -n "$READER" ] && [ "$READER" != null ] || fail "keys create printed no key"
code 0 "$CLI" --url "$URL" --token "$READER" whoami
has "reader"
code 4 "$CLI" --url "$URL" --token "$READER" groups create --name Nope
err_has "^riskgate: "

step "bad --set value (exit 1, the server's message)"
code 1 "$CLI" --url "$URL" --token-file "$TMP/admin.key" policies update "$POLICY" --set minimumPinLength=99
err_has "^riskgate: minimumPinLength"

step "missing id (exit 5)"
code 5 "$CLI" --url "$URL" --token-file "$TMP/admin.key" policies get T_00000000-0000-0000-0000-000000000000
err_has "^riskgate: "

step "unreachable server (exit 3)"
code 3 "$CLI" --url http://127.0.0.1:1 --token x whoami
err_has "cannot reach"

step "bad flag (exit 2, usage)"
code 2 "$CLI" --url "$URL" --token-file "$TMP/admin.key" policies list --no-such-flag
err_has "usage: riskgate policies list"

step "help at every level"
code 0 "$CLI" --help
has "Exit codes"
code 0 "$CLI" policies --help
has "target-apps"
code 0 "$CLI" policies create --help
has "--file"

echo "test_cli: PASS"
