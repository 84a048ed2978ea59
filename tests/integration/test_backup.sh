#!/usr/bin/env bash
# riskgated backup / restore (issue 11 item 7): a backup taken while riskgated
# serves and writers write is a consistent, intact copy holding every write
# acknowledged before it started; restore checks the file before touching the
# database, replaces the content, and riskgated serves the restored data.
. "$(dirname "$0")/lib.sh"
RGD="$RG_BIN_DIR/riskgated"
DB="sqlite:$RG_TMP/var/riskgate.db"

rg_start
api POST /v1.0/groups '{"displayName":"before backup"}'
expect_status 201 "a group before the backup"
before=$(jq -r .id <<<"$BODY")

# writers keep writing during the backup; each acknowledged id is recorded
writer() {
  local n=0
  while [ ! -f "$RG_TMP/stop" ]; do
    n=$((n + 1))
    st=$(curl -sS -o "$RG_TMP/w.$1.resp" -w '%{http_code}' -H "Authorization: Bearer $RG_KEY" -H 'Content-Type: application/json' \
      --data-binary "{\"displayName\":\"w$1-$n\"}" "$RG_URL/v1.0/groups")
    [ "$st" = 201 ] && echo "$(jq -r .id <"$RG_TMP/w.$1.resp")" >>"$RG_TMP/acked.$1"
  done
}
writer 1 & w1=$!
writer 2 & w2=$!
sleep 1
cat "$RG_TMP"/acked.* 2>/dev/null | sort >"$RG_TMP/acked_before" # acknowledged before the backup starts
rc=0; out=$("$RGD" backup --to "$RG_TMP/backup.db" --db "$DB" 2>&1) || rc=$?
expect_eq "$rc" 0 "backup while serving and writing ($out)"
sleep 0.5
touch "$RG_TMP/stop"
wait "$w1" "$w2"
[ -f "$RG_TMP/backup.db" ] && [ ! -f "$RG_TMP/backup.db.tmp" ] && pass || fail "the backup is in place, no .tmp left"
[ ! -e "$RG_TMP/backup.db-wal" ] && pass || fail "the backup is one self-contained file"
expect_eq "$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("PRAGMA integrity_check").fetchone()[0])' "$RG_TMP/backup.db")" ok \
  "the backup passes PRAGMA integrity_check"
nb=$(wc -l <"$RG_TMP/acked_before")
[ "$nb" -gt 0 ] && pass || fail "writers were writing before the backup ($nb acknowledged)"
missing=$(python3 - "$RG_TMP/backup.db" "$RG_TMP/acked_before" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
have = {r[0] for r in db.execute("SELECT id FROM documents WHERE collection='groups'")}
print(sum(1 for l in open(sys.argv[2]) if l.strip() and l.strip() not in have))
PY
)
expect_eq "$missing" 0 "every write acknowledged before the backup started is in it ($nb writes)"
stat -c %a "$RG_TMP/backup.db" | grep -qx 600 && pass || fail "the backup is private (mode 0600): $(stat -c %a "$RG_TMP/backup.db")"

# after the backup: a change that the restore must undo
api POST /v1.0/groups '{"displayName":"after backup"}'
after=$(jq -r .id <<<"$BODY")
api DELETE "/v1.0/groups/$before"
expect_status 204 "a deletion after the backup"
rg_stop

# restore refuses a file that is not a riskgate database, before touching anything
echo "not a database" >"$RG_TMP/junk.db"
rc=0; out=$("$RGD" restore --from "$RG_TMP/junk.db" --db "$DB" 2>&1) || rc=$?
expect_eq "$rc" 1 "restore of a junk file fails with exit 1"
[[ "$out" == *"not an intact SQLite database"* || "$out" == *"not a riskgate database"* ]] && pass || fail "and says why: $out"
python3 -c 'import sqlite3,sys; sqlite3.connect(sys.argv[1]).execute("CREATE TABLE t (x)")' "$RG_TMP/other.db"
rc=0; out=$("$RGD" restore --from "$RG_TMP/other.db" --db "$DB" 2>&1) || rc=$?
[[ "$rc" == 1 && "$out" == *"not a riskgate database"* ]] && pass || fail "restore of another SQLite database refused: $rc $out"
rg_start
api GET "/v1.0/groups/$after"
expect_status 200 "a refused restore left the database as it was"
rg_stop

rc=0; out=$("$RGD" restore --from "$RG_TMP/backup.db" --db "$DB" 2>&1) || rc=$?
expect_eq "$rc" 0 "restore ($out)"
rg_start
api GET "/v1.0/groups/$before"
expect_status 200 "the restored database has what was deleted after the backup"
api GET "/v1.0/groups/$after"
expect_status 404 "and not what was created after it"
api POST /v1.0/groups '{"displayName":"after restore"}'
expect_status 201 "riskgated writes to the restored database"
rg_stop

# usage errors: exit 2 with a sentence
rc=0; out=$("$RGD" backup --db "$DB" 2>&1) || rc=$?
[[ "$rc" == 2 && "$out" == *"--to FILE is required"* ]] && pass || fail "backup without --to: $rc $out"
rc=0; out=$("$RGD" restore --from "$RG_TMP/backup.db" --db "postgresql://x/y" 2>&1) || rc=$?
[[ "$rc" == 2 && "$out" == *"pg_dump"* ]] && pass || fail "restore of a non-sqlite URL names the PostgreSQL tools: $rc $out"
rc=0; out=$("$RGD" backup --to /nonexistent-dir/b.db --db "$DB" 2>&1) || rc=$?
[[ "$rc" == 1 && "$out" == *"cannot create"* ]] && pass || fail "backup to an unwritable place: $rc $out"
finish
