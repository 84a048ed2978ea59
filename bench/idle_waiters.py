#!/usr/bin/env python3
"""Idle live connections: how much one riskgated pays per device holding a long-poll.

Usage: python3 bench/idle_waiters.py BUILD_DIR [N]      (default N = 10000; needs `ulimit -n` > N + 100)
Starts riskgated on 127.0.0.1 with a temporary database, activates N devices (one-time
enrollment codes, so no password hashing), opens N idle GET /device/v1/wait requests (one per
device, HTTP/1.1, each on its own connection), then prints riskgated's resident memory before
and with the waiters, the cost per idle connection, and how long one indicator change takes to
answer all of them. Loopback only; bounded in time.
"""
import http.client, json, os, re, resource, socket, subprocess, sys, tempfile, time

build = sys.argv[1] if len(sys.argv) > 1 else "build"
n = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
tmp = tempfile.mkdtemp(prefix="rg-idle-")
log = open(f"{tmp}/log", "w")  # a file, not a pipe: an unread pipe would stall the server's log writes
srv = subprocess.Popen([os.path.join(build, "riskgated"), "--listen", "127.0.0.1:0", "--db", f"sqlite:{tmp}/db",
                        "--admin-key-file", f"{tmp}/k", "--signing-key-file", f"{tmp}/s"], stderr=log)
try:
    port = None
    for _ in range(100):
        m = re.search(r"^riskgated: listening on http://127.0.0.1:(\d+)", open(f"{tmp}/log").read(), re.M)
        if m:
            port = int(m.group(1))
            break
        time.sleep(0.05)
    key = open(f"{tmp}/k").read().strip()
    c = http.client.HTTPConnection("127.0.0.1", port)
    def call(method, path, body=None, token=key):
        c.request(method, path, body=json.dumps(body) if body is not None else None,
                  headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        r = c.getresponse()
        data = r.read()
        return r.status, (json.loads(data) if data else None)
    call("POST", "/v1.0/users", {"userPrincipalName": "a@x.y"})
    t0 = time.time()
    creds = []
    for i in range(n):
        _, code = call("POST", "/riskgate/v1/enrollmentCodes", {"userId": "a@x.y"})
        st, dev = call("POST", "/device/v1/activate",
                       {"tenant": "default", "enrollmentCode": code["code"], "device": {"platform": "android"}}, token="")
        creds.append(dev["credential"])
    print(f"activated {n} devices in {time.time() - t0:.1f} s")

    def rss_kb():
        return int(re.search(r"VmRSS:\s+(\d+)", open(f"/proc/{srv.pid}/status").read()).group(1))

    before = rss_kb()
    socks = []
    for cred in creds:
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall((f"GET /device/v1/wait?timeout=120 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {cred}\r\n\r\n").encode())
        socks.append(s)
    deadline = time.time() + 60
    waiting = 0
    while time.time() < deadline:
        st, _ = call("GET", "/healthz")
        c.request("GET", "/metrics")
        text = c.getresponse().read().decode()
        waiting = int(re.search(r"^riskgate_waiters (\d+)", text, re.M).group(1))
        if waiting >= n:
            break
        time.sleep(0.2)
    with_waiters = rss_kb()
    print(f"waiters held: {waiting}")
    print(f"riskgated RSS: {before} kB before, {with_waiters} kB with {n} idle waits: "
          f"{(with_waiters - before) * 1024 / max(waiting, 1):.0f} bytes per idle connection")
    t0 = time.time()
    call("POST", "/api/indicators", {"indicatorValue": "evil.example.com", "indicatorType": "DomainName",
                                     "action": "Block", "title": "t", "description": ""})
    answered = 0
    for s in socks:
        s.settimeout(30)
        if b"changed" in s.recv(4096):
            answered += 1
    print(f"one indicator change answered {answered} waiters in {time.time() - t0:.2f} s")
    for s in socks:
        s.close()
finally:
    srv.terminate()
    srv.wait(timeout=30)
