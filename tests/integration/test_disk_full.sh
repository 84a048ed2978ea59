#!/usr/bin/env bash
# Disk full under riskgated: the database folder is a small tmpfs, filled to the last byte.
# Writes then answer 503 in Graph's error shape (with Retry-After), reads keep working, nothing
# is half-written (every acknowledged write is there, a refused one left nothing, not even its
# audit record, PRAGMA integrity_check is ok), a restart after kill -9 on the full disk serves what was
# acknowledged, and writes succeed again once space returns.
# Needs root to mount the tmpfs (the only reason this test may skip).
source "$(dirname "$0")/lib.sh"
need_tool jq jq

MNT=$RG_TMP/var # rg_start keeps the database, its WAL and the key files here
mkdir -p "$MNT"
if [ "$(id -u)" != 0 ] || ! mount -t tmpfs -o size=6m,mode=0700 riskgate-diskfull "$MNT" 2>"$RG_TMP/mount.err"; then
  skip_part "a small filesystem for the database: mounting a tmpfs needs root ($(cat "$RG_TMP/mount.err" 2>/dev/null))"
  rc=0
  finish || rc=$?
  exit "$rc"
fi
disk_cleanup() {
  if [ -n "$RG_PID" ] && kill -0 "$RG_PID" 2>/dev/null; then kill -9 "$RG_PID" 2>/dev/null || true; fi
  RG_PID=
  umount "$MNT" 2>/dev/null || umount -l "$MNT" 2>/dev/null || true
  rg_cleanup
}
trap disk_cleanup EXIT

DAM=/beta/deviceAppManagement/iosManagedAppProtections
PAD=$(head -c 4000 /dev/zero | tr "\0" x) # descriptions hold at most 4096 bytes
pol() { printf '{"displayName":"%s","minimumPinLength":6,"description":"%s"}' "$1" "$PAD"; }
audit_count() {
  api GET "/beta/deviceManagement/auditEvents/\$count"
  echo "$BODY"
}

rg_start
ACKED=() # ids of every policy whose create was acknowledged
for i in 1 2 3; do
  api POST "$DAM" "$(pol "before-$i")"
  expect_status 201 "write $i before the disk fills"
  ACKED+=("$(jq -r .id <<<"$BODY")")
done
target=${ACKED[0]}

# ---- fill the disk; SQLite may still have room inside its WAL, so write until a write is refused ----
dd if=/dev/zero of="$MNT/filler" bs=64k >/dev/null 2>&1 || true
[ "$(df --output=avail -k "$MNT" | tail -n1 | tr -d ' ')" -lt 64 ] && pass || fail "the tmpfs is not full: $(df -k "$MNT")"
audits_before=$(audit_count)
full=0
for i in $(seq 1 2000); do
  api POST "$DAM" "$(pol "filling-$i")"
  if [ "$STATUS" = 201 ]; then ACKED+=("$(jq -r .id <<<"$BODY")"); continue; fi
  full=1
  break
done
expect_eq "$full" 1 "a write was refused once the disk was full"
expect_error 503 "" "a create on a full disk"
grep -q "storage is full" <<<"$BODY" && pass || fail "the message says the storage is full: $BODY"
expect_eq "$(audit_count)" "$((audits_before + ${#ACKED[@]} - 3))" "audit records: one per acknowledged write, none for the refused one"

# the answers while full: 503 with Retry-After for every kind of write, reads still served
hdrs=$(curl -sS -D - -o "$RG_TMP/resp" -H "Authorization: Bearer $RG_KEY" -H 'Content-Type: application/json' \
  --data-binary "$(pol still-full)" "$RG_URL$DAM")
grep -qi '^Retry-After: [0-9]' <<<"$hdrs" && pass || fail "503 without Retry-After: $hdrs"
api PATCH "$DAM/$target" "{\"displayName\":\"changed\",\"description\":\"$PAD\"}"
expect_error 503 "" "a PATCH on a full disk"
api POST /v1.0/users "{\"userPrincipalName\":\"full@contoso.com\",\"displayName\":\"${PAD:0:1000}\"}"
expect_error 503 "" "a user create on a full disk"
api POST '/v1.0/$batch' "{\"requests\":[{\"id\":\"1\",\"method\":\"POST\",\"url\":\"/deviceAppManagement/iosManagedAppProtections\",\"headers\":{\"Content-Type\":\"application/json\"},\"body\":$(pol in-batch)}]}"
expect_eq "$(jq -r '.responses[0].status' <<<"$BODY")" 503 "a create inside a \$batch on a full disk"
api GET "$DAM/$target"
expect_status 200 "reads are served while the disk is full"
expect_eq "$(jq -r .displayName <<<"$BODY")" before-1 "the refused PATCH changed nothing"
api GET "/v1.0/users/full@contoso.com"
expect_status 404 "the refused user create left nothing"
api GET "$DAM?\$filter=startswith(displayName,'in-batch')&\$select=id"
expect_eq "$(jq -r '.value | length' <<<"$BODY")" 0 "the refused batch step left nothing"
api GET /healthz "" ""
expect_status 200 "healthz while the disk is full"
[ "$(grep -c 'could not write check-in times' "$RG_TMP/daemon.log" || true)" -le 1 ] && pass || fail "the tick logs a failing flush every second"

# ---- kill -9 while the disk is full: riskgated starts again on it, serves what was acknowledged, refuses writes ----
rg_kill9
rg_start
api GET "$DAM?\$count=true&\$top=1&\$select=id"
expect_eq "$(jq -r '."@odata.count"' <<<"$BODY")" "${#ACKED[@]}" "after kill -9 on the full disk: the acknowledged policies, no other"
api POST "$DAM" "$(pol after-crash)"
expect_error 503 "" "a create after the restart on the full disk"

# ---- space returns: writes succeed again, without a restart ----
rm -f "$MNT/filler"
ok=0
for i in $(seq 1 50); do
  api POST "$DAM" "$(pol "after-$i")"
  if [ "$STATUS" = 201 ]; then ok=1; ACKED+=("$(jq -r .id <<<"$BODY")"); break; fi
  sleep 0.1
done
expect_eq "$ok" 1 "a write succeeds once space returns (last answer: $STATUS $BODY)"
api PATCH "$DAM/$target" '{"displayName":"changed"}'
expect_status 204 "a PATCH succeeds once space returns"

check_acked() {
  local missing=0 id
  for id in "${ACKED[@]}"; do
    api GET "$DAM/$id?\$select=id"
    [ "$STATUS" = 200 ] || missing=$((missing + 1))
  done
  expect_eq "$missing" 0 "$1: every one of the ${#ACKED[@]} acknowledged creates is there"
}
check_acked "after the disk was full"
api GET "$DAM?\$count=true&\$top=1&\$select=id"
expect_eq "$(jq -r '."@odata.count"' <<<"$BODY")" "${#ACKED[@]}" "no policy beyond the acknowledged ones"

# SIGTERM exits 0, the database is whole, and everything is there after a restart
rg_stop
integrity=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("PRAGMA integrity_check").fetchone()[0])' "$MNT/riskgate.db")
expect_eq "$integrity" ok "PRAGMA integrity_check after the disk was full"
rg_start
check_acked "after a restart"
api GET "$DAM/$target"
expect_eq "$(jq -r .displayName <<<"$BODY")" changed "the acknowledged PATCH is kept"
rg_stop
echo "disk-full: ${#ACKED[@]} acknowledged creates, the disk filled after $((${#ACKED[@]} - 3)) of them"
finish
