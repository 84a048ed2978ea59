#!/usr/bin/env bash
# test_cli_threat.sh: the riskgate CLI's threat-defense commands against the real
# daemon: indicator add/list/show/rm, CSV and plain-list imports (a bad row, a
# 200,000-line list, stdin), device list/show/tag/offboard/enroll-code after an
# activation done with curl, alert list/show/resolve/reopen after a detection
# posted with curl, partner keys, users --password-stdin, and the exit codes.
#
# Alone: RG_BIN_DIR=build bash tests/integration/test_cli_threat.sh
source "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || { echo "FAIL: jq is needed" >&2; exit 1; }
CLI=$RG_BIN_DIR/riskgate
[ -x "$CLI" ] || { echo "FAIL: no CLI at $CLI" >&2; exit 1; }
rg_start

# cli ARGS...: runs the CLI as the tenant admin; sets RC, OUT, ERR (stdin passes through).
cli() {
  RC=0
  RISKGATE_URL=$RG_URL RISKGATE_TOKEN=$RG_KEY "$CLI" "$@" >"$RG_TMP/out" 2>"$RG_TMP/err" || RC=$?
  OUT=$(cat "$RG_TMP/out")
  ERR=$(cat "$RG_TMP/err")
}
# expect_rc CODE what: checks RC.
expect_rc() {
  if [ "$RC" = "$1" ]; then pass; else fail "$2: expected exit $1, got $RC; stdout: ${OUT:0:400}; stderr: ${ERR:0:400}"; fi
}
# expect_has TEXT HAYSTACK what
expect_has() {
  if [[ $2 == *"$1"* ]]; then pass; else fail "$3: '$1' not in: ${2:0:600}"; fi
}
expect_not_has() {
  if [[ $2 != *"$1"* ]]; then pass; else fail "$3: '$1' should not be in: ${2:0:600}"; fi
}
# find_indicator TYPE VALUE: sets IND to the indicator (JSON, or empty) via curl.
find_indicator() {
  api GET "/api/indicators?\$filter=$(jq -rn --arg t "$1" --arg v "$2" '"indicatorType eq '\''\($t)'\'' and indicatorValue eq '\''\($v)'\''" | @uri')"
  IND=$(jq -c '.value[0] // empty' <<<"$BODY")
}

# ---- indicator add / list / show / rm ----
cli indicator add --type DomainName --value evil.example --action Block --title "Evil site" --description "from a test"
expect_rc 0 "indicator add"
expect_has "Block DomainName evil.example" "$OUT" "add prints the indicator"
cli --json indicator add --type FileSha256 --value 275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f \
  --action Audit --generate-alert --title EICAR --severity High --scope byod --scope corp --expires 2030-01-01T00:00:00Z
expect_rc 0 "indicator add with every option"
expect_eq "$(jq -r '[.action, .severity, (.generateAlert|tostring), (.rbacGroupNames|join(",")), .expirationTime] | join(" ")' <<<"$OUT")" \
  "Audit High true byod,corp 2030-01-01T00:00:00Z" "add --json: the options reached the server"
file_id=$(jq -r .id <<<"$OUT")
cli indicator add --type FileSha256 --value 275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f --action Audit --title x
expect_rc 1 "Audit without --generate-alert is refused by the server"
expect_has "riskgate: generateAlert" "$ERR" "the server's message"
cli indicator add --type IpAddress --value 203.0.113.7 --action Warn --title "Warn IP"
ip_id=$(jq -r '.value[0].id' <<<"$(RISKGATE_URL=$RG_URL RISKGATE_TOKEN=$RG_KEY "$CLI" indicator list --type IpAddress --json)")

cli indicator list
expect_rc 0 "indicator list"
expect_has "evil.example" "$OUT" "list shows the domain"
expect_has "byod,corp" "$OUT" "list shows the scope"
[[ $(head -n1 <<<"$OUT") == ID*TYPE*VALUE*ACTION*SEVERITY*TITLE*EXPIRES*SCOPE ]] && pass || fail "list header: $OUT"
cli --json indicator list --type DomainName
expect_eq "$(jq -r '[.value[].indicatorValue] | join(",")' <<<"$OUT")" "evil.example" "list --type filters"
cli indicator list --type FileSha256 --action Audit --json
expect_eq "$(jq -r '.value | length' <<<"$OUT")" 1 "two clauses joined by and"
cli indicator list --action Block --value evil.example --json
expect_eq "$(jq -r '.value[0].title' <<<"$OUT")" "Evil site" "--value filter"
cli indicator list --value nothing.example
expect_has "(none)" "$OUT" "an empty list"

cli indicator show "$file_id"
expect_rc 0 "indicator show"
expect_has "EICAR" "$OUT" "show prints the title"
cli indicator rm "$ip_id"
expect_rc 0 "indicator rm"
expect_has "deleted indicator $ip_id" "$OUT" "rm says so"
cli indicator show "$ip_id"
expect_rc 5 "a deleted indicator is not found"
cli indicator rm 987654321
expect_rc 5 "rm of an unknown id"

# ---- CSV import: header in its own order and case, quoted commas, doubled quotes, a line break, a bad row ----
csv=$RG_TMP/indicators.csv
printf '\xef\xbb\xbfIndicatorType,indicatorValue,ACTION,title,description,expirationTime,severity,recommendedActions,rbacGroups,category,mitretechniques,GenerateAlert\r\n' >"$csv"
cat >>"$csv" <<'EOF'
DomainName,phish.example,Block,"Phish, Inc.","A ""quoted"" description, with commas",,High,Report it,"byod,corp",Phishing,"T1566,T1204",False

IpAddress,10.0.0.0/8,Block,A range,CIDR is refused,,,,,,,
Url,https://evil.example/login,Warn,Two lines,"line one
line two",2031-01-01T00:00:00Z,Low,,,,,
FileSha1,3395856ce81f2b7382dee72602f798b642f14140,Audit,EICAR sha1,,,Medium,,,,,True
EOF
cli indicator import "$csv"
expect_rc 1 "CSV import with a bad row exits 1"
expect_has "3 imported, 1 failed" "$OUT" "CSV summary"
expect_has "line 4: 10.0.0.0/8: " "$ERR" "the bad row is reported with its line number"
[ "$(grep -c '^line ' <<<"$ERR")" = 1 ] && pass || fail "only the bad row is reported: $ERR"
find_indicator DomainName phish.example
expect_eq "$(jq -r '[.title, .description, .severity, .recommendedActions, (.rbacGroupNames|join("+")), (.mitreTechniques|join("+")), .category] | join("|")' <<<"$IND")" \
  'Phish, Inc.|A "quoted" description, with commas|High|Report it|byod+corp|T1566+T1204|Phishing' "quoted fields parsed"
find_indicator Url https://evil.example/login
expect_eq "$(jq -r '.description + "|" + .action + "|" + .expirationTime' <<<"$IND")" $'line one\nline two|Warn|2031-01-01T00:00:00Z' \
  "a quoted line break stays in the field"
find_indicator FileSha1 3395856ce81f2b7382dee72602f798b642f14140
expect_eq "$(jq -r '.generateAlert' <<<"$IND")" true "GenerateAlert True"
printf 'indicatorValue,indicatorType,colour\nx.example,DomainName,red\n' >"$RG_TMP/badhdr.csv"
cli indicator import "$RG_TMP/badhdr.csv"
expect_rc 1 "an unknown CSV column"
expect_has "unknown column 'colour'" "$ERR" "names the column"
cli --json indicator import - <"$csv"
expect_rc 1 "CSV from stdin"
expect_eq "$(jq -r '"\(.imported) \(.failed)"' <<<"$OUT")" "3 1" "import --json summary"

# ---- plain list ----
printf '# a feed\n\nlist-one.example\nhttps://list-two.example/path?q=1\n  list-three.example  \n# done\n' >"$RG_TMP/list.txt"
cli indicator import "$RG_TMP/list.txt" --action Warn
expect_rc 0 "plain-list import"
expect_has "3 imported, 0 failed" "$OUT" "plain-list summary"
find_indicator Url https://list-two.example/path?q=1
expect_eq "$(jq -r '.action + "|" + .title' <<<"$IND")" "Warn|Imported from $RG_TMP/list.txt" "a URL line, --action, the default title"
find_indicator DomainName list-three.example
[ -n "$IND" ] && pass || fail "a trimmed domain line"
cli indicator import - --title Feed < <(printf 'stdin-one.example\nbad domain\n')
expect_rc 1 "stdin list with a bad line"
expect_has "line 2: bad domain: " "$ERR" "bad list line reported"
find_indicator DomainName stdin-one.example
expect_eq "$(jq -r .title <<<"$IND")" Feed "--title"

# ---- a 200,000-line list ----
big=$RG_TMP/big.txt
awk 'BEGIN { for (i = 1; i <= 200000; i++) printf "host%d.bulk-feed.example\n", i }' >"$big"
t0=$(date +%s.%N)
cli indicator import "$big"
t1=$(date +%s.%N)
secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
echo "test_cli_threat: imported 200,000 domains in ${secs} s (a figure, not a check: speed is measured under bench/)"
expect_rc 0 "200,000-line import"
expect_has "200000 imported, 0 failed" "$OUT" "200,000-line summary"
find_indicator DomainName host200000.bulk-feed.example
[ -n "$IND" ] && pass || fail "the last line of the big list is there"
find_indicator DomainName host1.bulk-feed.example
[ -n "$IND" ] && pass || fail "the first line of the big list is there"

# ---- users --password-stdin, activation with curl, devices ----
cli users create --upn alice@contoso.com --name Alice --password-stdin <<<"correct horse battery"
expect_rc 0 "users create --password-stdin"
expect_not_has "correct horse" "$OUT$ERR" "the password is not echoed"
cli users update alice@contoso.com --password-stdin <<<"short"
expect_rc 1 "a too short password is refused"
expect_has "passwordProfile.password" "$ERR" "the server's message"
cli users update alice@contoso.com --password-stdin </dev/null
expect_rc 1 "no password on stdin"
act='{"tenant":"default","userPrincipalName":"alice@contoso.com","password":"correct horse battery","device":{"platform":"android","deviceName":"alice-pixel","osVersion":"14","model":"Pixel 8","manufacturer":"Google","agentVersion":"0.1.0"}}'
api POST /device/v1/activate "$act" ""
expect_status 201 "activation with the password set by the CLI"
CRED=$(jq -r .credential <<<"$BODY")
DEV=$(jq -r .deviceId <<<"$BODY")
api POST /device/v1/heartbeat '{}' "$CRED"

cli device list
expect_rc 0 "device list"
[[ $(head -n1 <<<"$OUT") == ID*NAME*PLATFORM*USER*RISK*LEVEL*HEALTH*LAST\ SEEN*TAGS ]] && pass || fail "device list header: $OUT"
expect_has "alice-pixel" "$OUT" "device list shows the device"
expect_has "alice@contoso.com" "$OUT" "device list shows the user"
cli device show "$DEV"
expect_rc 0 "device show"
expect_has "Onboarded" "$OUT" "device show prints the machine"
cli device tag "$DEV" --add byod
expect_rc 0 "device tag --add"
expect_has "tags: byod" "$OUT" "the new tag"
cli device tag "$DEV" --add vip
api GET "/api/machines/$DEV"
expect_eq "$(jq -r '.machineTags | join(",")' <<<"$BODY")" "byod,vip" "tags on the server"
cli device tag "$DEV" --remove vip
expect_has "tags: byod" "$OUT" "device tag --remove"
cli device tag "$DEV" --add a --remove b
expect_rc 2 "--add and --remove together"
cli device tag "$DEV"
expect_rc 2 "neither --add nor --remove"
cli device show no-such-device
expect_rc 5 "device show of an unknown id"
cli device enroll-code alice@contoso.com --minutes 30
expect_rc 0 "device enroll-code"
[[ $OUT =~ code:\ [A-Z2-9]{5}-[A-Z2-9]{5}-[A-Z2-9]{5} ]] && pass || fail "an enrollment code: $OUT"
expect_has "shown only once" "$ERR" "the once-only warning"
cli device enroll-code alice@contoso.com --minutes 0
expect_rc 2 "--minutes 0"
cli device enroll-code nobody@contoso.com
expect_rc 1 "enroll-code for an unknown user"

# ---- alerts ----
eicar='{"detections":[{"kind":"malware","key":"sha256:275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f","state":"active","threatName":"Test Virus","fileName":"eicar.com","filePath":"/sdcard/Download/eicar.com","sha256":"275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"}]}'
api POST /device/v1/detections "$eicar" "$CRED"
expect_status 200 "detection posted"
ALERT=$(jq -r '.alerts[0].alertId' <<<"$BODY")
cli alert list
expect_rc 0 "alert list"
expect_has "$ALERT" "$OUT" "alert list shows the alert"
expect_has "alice-pixel" "$OUT" "alert list shows the device"
cli alert list --device "$DEV" --status New --severity Medium --json
expect_eq "$(jq -r '[.value[].id] | join(",")' <<<"$OUT")" "$ALERT" "three filters (one on the server)"
cli alert list --status Resolved --json
expect_eq "$(jq -r '.value | length' <<<"$OUT")" 0 "--status filters"
cli alert list --device "$DEV" --severity High --json
expect_eq "$(jq -r '.value | length' <<<"$OUT")" 0 "--severity filters here"
cli alert show "$ALERT"
expect_rc 0 "alert show"
expect_has "Evidence:" "$OUT" "alert show has the evidence"
expect_has "eicar.com" "$OUT" "the evidence's file"
cli device show "$DEV"
expect_has "$ALERT" "$OUT" "device show lists its alerts"
api GET "/api/machines/$DEV"
expect_eq "$(jq -r .threatLevel <<<"$BODY")" medium "the detection raised the level"
cli alert resolve "$ALERT" --classification Informational --determination SecurityTesting --comment "test, EICAR"
expect_rc 0 "alert resolve"
api GET "/api/alerts/$ALERT"
expect_eq "$(jq -r '[.status, .classification, .determination, .comments[0].comment] | join("|")' <<<"$BODY")" \
  "Resolved|Informational, expected activity|SecurityTesting|test, EICAR" "resolved on the server"
api GET "/api/machines/$DEV"
expect_eq "$(jq -r .threatLevel <<<"$BODY")" secured "resolving lowers the level"
cli alert reopen "$ALERT"
expect_rc 0 "alert reopen"
api GET "/api/alerts/$ALERT"
expect_eq "$(jq -r .status <<<"$BODY")" New "reopened"
cli alert resolve "$ALERT" --classification Bogus
expect_rc 2 "a bad classification"
cli alert show no-such-alert
expect_rc 5 "alert show of an unknown id"
cli alert resolve no-such-alert
expect_rc 5 "alert resolve of an unknown id"

# ---- partner keys ----
LOOKOUT=2c7790de-8b02-4814-85cf-e0c59380dee8
api POST /beta/deviceManagement/mobileThreatDefenseConnectors "{\"id\":\"$LOOKOUT\",\"iosMobileApplicationManagementEnabled\":true}"
cli partner-key create "$LOOKOUT"
expect_rc 0 "partner-key create"
[[ $OUT =~ key:\ rgp_ ]] && pass || fail "a partner key: $OUT"
cli partner-key create no-such-connector
expect_rc 1 "partner-key for an unknown connector"

# ---- offboarding ----
cli device offboard "$DEV"
expect_rc 0 "device offboard"
api POST /device/v1/heartbeat '{}' "$CRED"
expect_status 401 "the offboarded device's credential stops working"
cli device offboard "$DEV"
expect_rc 1 "offboarding twice"

# ---- usage errors, help, auth ----
cli indicator add --bogus
expect_rc 2 "an unknown option"
cli indicator add --type Sha256 --value x --action Block --title t
expect_rc 2 "a bad --type"
cli indicator add --type DomainName --value x.example --action Block
expect_rc 2 "a missing --title"
cli indicator list --action Deny
expect_rc 2 "a bad --action"
cli indicator import
expect_rc 2 "import without a file"
cli indicator import "$RG_TMP/no-such-file"
expect_rc 1 "import of a missing file"
cli alert list --status Closed
expect_rc 2 "a bad --status"
cli device show
expect_rc 2 "device show without an id"
cli indicator frobnicate
expect_rc 2 "an unknown subcommand"
for c in "indicator add" "indicator list" "indicator show" "indicator rm" "indicator import" "device list" \
  "device show" "device tag" "device offboard" "device enroll-code" "alert list" "alert show" "alert resolve" \
  "alert reopen" "partner-key create" "users create" "users update"; do
  # shellcheck disable=SC2086
  cli $c --help
  if [ "$RC" = 0 ] && [[ $OUT == usage:* ]]; then pass; else fail "$c --help: exit $RC: $OUT $ERR"; fi
done
cli users create --help
expect_has "--password-stdin" "$OUT" "users create documents --password-stdin"
RC=0
RISKGATE_URL=$RG_URL RISKGATE_TOKEN=rgk_wrong "$CLI" indicator list >/dev/null 2>&1 || RC=$?
expect_rc 4 "a wrong key"

rg_stop
finish
