#!/usr/bin/env bash
# HTTP connections (issue: hardening, item 9): keep-alive clients keep their connection whatever
# the status (201, 4xx), and an HTTP/1.0 keep-alive client gets a length instead of waiting for
# the server to close. Raw sockets, so nothing in a client library hides what the server sends.
source "$(dirname "$0")/lib.sh"
rg_start
port=${RG_URL##*:}

out=$(python3 - "$port" "$RG_KEY" <<'EOF_PY'
import socket, sys
port, key = int(sys.argv[1]), sys.argv[2]

def read_response(f):
    status = f.readline()
    if not status:
        return None, {}, b""
    headers = {}
    while True:
        line = f.readline().rstrip(b"\r\n")
        if not line:
            break
        k, _, v = line.partition(b":")
        headers[k.strip().lower().decode()] = v.strip().decode()
    n = int(headers.get("content-length", "-1"))
    body = f.read(n) if n >= 0 else b""
    return status.split()[1].decode(), headers, body

def session(version, reqs):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    f = s.makefile("rb")
    answers = []
    for method, path, body in reqs:
        head = f"{method} {path} HTTP/{version}\r\nHost: x\r\nAuthorization: Bearer {key}\r\nConnection: keep-alive\r\n"
        if body is not None:
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        s.sendall(head.encode() + b"\r\n" + (body or "").encode())
        try:
            st, h, _ = read_response(f)
        except socket.timeout:
            st, h = "timeout", {}
        answers.append(f"{st}/{h.get('connection', '-')}/{'len' if 'content-length' in h else 'nolen'}")
        if st is None or st == "timeout":
            break
    s.close()
    return " ".join(answers)

print(session("1.1", [("GET", "/beta/nope", None), ("POST", "/beta/groups", '{"displayName":"k"}'),
                      ("POST", "/beta/groups", '{"nope":1}'), ("GET", "/healthz", None)]))
print(session("1.0", [("GET", "/healthz", None), ("GET", "/beta/nope", None), ("GET", "/healthz", None)]))
EOF_PY
)
l1=$(sed -n 1p <<<"$out"); l2=$(sed -n 2p <<<"$out")
expect_eq "$l1" "404/keep-alive/len 201/keep-alive/len 400/keep-alive/len 200/keep-alive/len" \
  "HTTP/1.1: a 404, a 201 and a 400 keep the connection, with a length"
expect_eq "$l2" "200/keep-alive/len 404/keep-alive/len 200/keep-alive/len" \
  "HTTP/1.0 with Connection: keep-alive: a length on every answer, the connection kept"
# ---- h2o's own refusals (framing it cannot read) answer in Graph's error shape ----
framing=$(python3 - "$RG_URL" <<'PY'
import json, socket, sys, urllib.parse
u = urllib.parse.urlsplit(sys.argv[1])
cases = [("broken Content-Length", b"POST /v1.0/groups HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\nConnection: close\r\n\r\n"),
         ("unknown Transfer-Encoding", b"POST /v1.0/groups HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\nConnection: close\r\n\r\n")]
for name, raw in cases:
    s = socket.create_connection((u.hostname, u.port))
    s.sendall(raw)
    out = b""
    while True:
        d = s.recv(65536)
        if not d:
            break
        out += d
    head, _, body = out.partition(b"\r\n\r\n")
    lines = head.decode().lower().split("\r\n")
    status = lines[0].split()[1]
    ctype = next((l.split(":", 1)[1].strip() for l in lines if l.startswith("content-type:")), "")
    rid = next((l.split(":", 1)[1].strip() for l in lines if l.startswith("request-id:")), "")
    try:
        e = json.loads(body)["error"]
        ok = e["code"] == "BadRequest" and e["innerError"]["request-id"] == rid and "could not be read" in e["message"]
        msg = e["message"]
    except Exception as x:
        ok, msg = False, repr(body[:200])
    print(f"{name}|{status}|{ctype}|{ok}|{msg}")
PY
)
while IFS='|' read -r name st ct ok msg; do
  expect_eq "$st $ct $ok" "400 application/json True" "$name: 400 in Graph's error shape with a request-id ($msg)"
done <<<"$framing"

# ---- descriptors run out: accepting pauses (no spin on failed accept4), the server keeps serving ----
rg_stop
RG_FD_LIMIT=48
: >"$RG_TMP/daemon.log"
prlimit --nofile=$RG_FD_LIMIT:$RG_FD_LIMIT "$RG_BIN_DIR/riskgated" --listen 127.0.0.1:0 --db "sqlite:$RG_TMP/var/riskgate.db" \
  --admin-key-file "$RG_TMP/var/admin.key" --signing-key-file "$RG_TMP/var/signing.key" >>"$RG_TMP/daemon.log" 2>&1 &
RG_PID=$!
wait_until 10 grep -q '^riskgated: listening on ' "$RG_TMP/daemon.log" || fail "riskgated under a descriptor limit did not start"
RG_URL=$(sed -n 's/^riskgated: listening on //p' "$RG_TMP/daemon.log" | head -n1)
out=$(python3 - "$RG_URL" <<'PY'
import socket, sys, time, urllib.parse, urllib.request
u = urllib.parse.urlsplit(sys.argv[1])
socks = []
for i in range(80):  # more than the server's descriptors: the last ones wait in the listen queue
    s = socket.create_connection((u.hostname, u.port))
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    socks.append(s)
time.sleep(2)
for s in socks:
    s.close()
time.sleep(0.5)
ok = urllib.request.urlopen(sys.argv[1] + "/healthz", timeout=5).status
m = urllib.request.urlopen(sys.argv[1] + "/metrics", timeout=5).read().decode()
vals = {l.split()[0]: float(l.split()[1]) for l in m.splitlines() if l.startswith("riskgate_accept_")}
print(ok, int(vals.get("riskgate_accept_failures_total", -1)), int(vals.get("riskgate_accept_pauses_total", -1)))
PY
)
read -r hz fails pauses <<<"$out"
echo "descriptor exhaustion for 2 s: $fails failed accepts, $pauses pauses"
expect_eq "$hz" 200 "the server serves again once descriptors are free"
[ "${fails:-0}" -ge 1 ] && pass || fail "the exhaustion was seen and counted ($out)"
[ "${fails:-0}" -le 100 ] && pass || fail "failed accepts are bounded by the pause (about 20 in 2 s), not a spin: $fails"
grep -q 'cannot accept connections' "$RG_TMP/daemon.log" && pass || fail "the exhaustion is logged"
[ "$(grep -c 'cannot accept connections' "$RG_TMP/daemon.log")" -le 2 ] && pass || fail "and logged once, not per failure"
rg_stop
finish
