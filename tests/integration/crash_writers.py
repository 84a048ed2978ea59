#!/usr/bin/env python3
"""Concurrent admin writers for test_crash_writers.sh (python3 stdlib only).

  crash_writers.py write URL_FILE KEY LOG_DIR WRITERS STOP_FILE
      WRITERS threads write until STOP_FILE exists, each through its own connection to the URL
      read from URL_FILE (re-read after every failure: riskgated restarts on another port).
      Writer 0 and every even one: app protection policies (create; PATCH of the writer's own
      first policy with a sequence number; DELETE of one of its own earlier creates). Odd
      writers: Defender indicators (create, and an update of the writer's own first indicator).
      Only a 2xx counts as acknowledged; every acknowledged write, and each PATCH attempted, goes
      to LOG_DIR/w<N>.log as one line, flushed at once. Prints "writers: N acknowledged".
  crash_writers.py verify URL KEY LOG_DIR
      Checks every acknowledged write against what riskgated serves: each created policy or
      indicator is there (unless its acknowledged delete followed), each acknowledged delete is
      gone, each PATCHed value is the last acknowledged one or one attempted after it (the write
      in flight when the server died may have committed). Prints the counts; exit 1 on a loss.
"""
import http.client
import json
import os
import sys
import threading
import time
import urllib.parse

DAM = "/beta/deviceAppManagement/iosManagedAppProtections"


def conn_for(url_file):
    with open(url_file) as f:
        u = urllib.parse.urlsplit(f.read().strip())
    return http.client.HTTPConnection(u.hostname, u.port, timeout=5)


def call(c, key, method, path, body=None):
    headers = {"Authorization": "Bearer " + key}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    c.request(method, path, body=data, headers=headers)
    r = c.getresponse()
    raw = r.read()
    return r.status, (json.loads(raw) if raw and r.getheader("Content-Type", "").startswith("application/json") else None)


def writer(n, url_file, key, log_dir, stop_file, counts):
    log = open(os.path.join(log_dir, "w%d.log" % n), "a", buffering=1)
    c = None
    seq = 0
    own = None  # the object this writer PATCHes
    created = []
    acked = 0
    policies = n % 2 == 0
    while not os.path.exists(stop_file):
        seq += 1
        try:
            if c is None:
                c = conn_for(url_file)
            if policies:
                if own is not None and seq % 3 == 0:
                    log.write("attempt %s %d\n" % (own, seq))
                    st, _ = call(c, key, "PATCH", DAM + "/" + own, {"displayName": "w%d-%d" % (n, seq)})
                    if st == 204:
                        log.write("patch %s %d\n" % (own, seq))
                        acked += 1
                elif len(created) > 2 and seq % 7 == 0:
                    victim = created.pop(0)
                    st, _ = call(c, key, "DELETE", DAM + "/" + victim)
                    if st == 204:
                        log.write("delete %s\n" % victim)
                        acked += 1
                    else:
                        created.insert(0, victim)
                else:
                    st, b = call(c, key, "POST", DAM, {"displayName": "w%d-%d" % (n, seq), "minimumPinLength": 6})
                    if st == 201:
                        log.write("create %s\n" % b["id"])
                        acked += 1
                        if own is None:
                            own = b["id"]
                        else:
                            created.append(b["id"])
            else:
                if own is not None and seq % 3 == 0:
                    log.write("attempt-ind %s %d\n" % (own, seq))
                    body = {"indicatorValue": "w%d-own.crash.example.com" % n, "indicatorType": "DomainName",
                            "action": "Block", "title": "t%d" % seq, "description": "crash"}
                    st, b = call(c, key, "POST", "/api/indicators", body)
                    if st == 200:
                        log.write("patch-ind %s %d\n" % (own, seq))
                        acked += 1
                else:
                    value = "w%d-own" % n if own is None else "w%d-%d" % (n, seq)
                    body = {"indicatorValue": value + ".crash.example.com", "indicatorType": "DomainName",
                            "action": "Block", "title": "t%d" % seq, "description": "crash"}
                    st, b = call(c, key, "POST", "/api/indicators", body)
                    if st == 200:
                        log.write("create-ind %s\n" % b["id"])
                        acked += 1
                        if own is None:
                            own = b["id"]
            if st >= 500:
                time.sleep(0.01)
        except (OSError, http.client.HTTPException, ValueError, KeyError, TypeError):
            # the server died (or answered half): reconnect, to the URL of its next run
            if c is not None:
                c.close()
            c = None
            time.sleep(0.02)
    counts[n] = acked
    log.close()


def write(url_file, key, log_dir, writers, stop_file):
    counts = [-1] * writers  # a writer that dies of an exception leaves its -1: exit 1
    ts = [threading.Thread(target=writer, args=(i, url_file, key, log_dir, stop_file, counts)) for i in range(writers)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    print("writers: %d acknowledged" % sum(counts))
    if any(c < 0 for c in counts):
        sys.exit(1)


def verify(url, key, log_dir):
    u = urllib.parse.urlsplit(url)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    live = {}
    path = DAM + "?$select=id,displayName&$top=999"
    while path:
        st, b = call(c, key, "GET", path)
        if st != 200:
            print("FAIL: listing the policies answered %d" % st)
            return 1
        for p in b["value"]:
            live[p["id"]] = p["displayName"]
        nxt = b.get("@odata.nextLink")
        path = urllib.parse.urlsplit(nxt)._replace(scheme="", netloc="").geturl() if nxt else None
    lost = []
    acked = 0
    for name in sorted(os.listdir(log_dir)):
        created, deleted, last, attempts, ind_created, ind_last, ind_attempts = set(), set(), {}, {}, set(), {}, {}
        for line in open(os.path.join(log_dir, name)):
            f = line.split()
            if len(f) < 2:
                continue  # the line being written when the writers stopped (never: writers are not killed)
            kind, oid = f[0], f[1]
            if kind == "create":
                created.add(oid)
            elif kind == "delete":
                deleted.add(oid)
            elif kind == "patch":
                last[oid] = int(f[2])
            elif kind == "attempt":
                attempts.setdefault(oid, []).append(int(f[2]))
            elif kind == "create-ind":
                ind_created.add(oid)
            elif kind == "patch-ind":
                ind_last[oid] = int(f[2])
            elif kind == "attempt-ind":
                ind_attempts.setdefault(oid, []).append(int(f[2]))
            if not kind.startswith("attempt"):
                acked += 1
        for oid in created - deleted:
            if oid not in live:
                lost.append("%s: created policy %s is missing" % (name, oid))
        for oid in deleted:
            if oid in live:
                lost.append("%s: deleted policy %s is back" % (name, oid))
        for oid, seq in last.items():
            got = live.get(oid, "")
            ok = {"w%s-%d" % (name[1:-4], s) for s in attempts.get(oid, []) if s >= seq}
            if got not in ok:
                lost.append("%s: policy %s reads '%s' after the acknowledged PATCH %d" % (name, oid, got, seq))
        for oid in ind_created:
            st, b = call(c, key, "GET", "/api/indicators/" + oid)
            if st != 200:
                lost.append("%s: created indicator %s answers %d" % (name, oid, st))
                continue
            if oid in ind_last:
                ok = {"t%d" % s for s in ind_attempts.get(oid, []) if s >= ind_last[oid]}
                if b.get("title") not in ok:
                    lost.append("%s: indicator %s has title '%s' after the acknowledged update %d"
                                % (name, oid, b.get("title"), ind_last[oid]))
    for line in lost[:20]:
        print("FAIL: " + line)
    print("verify: %d acknowledged writes checked, %d lost" % (acked, len(lost)))
    return 1 if lost else 0


if __name__ == "__main__":
    if sys.argv[1] == "write":
        write(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), sys.argv[6])
    else:
        sys.exit(verify(sys.argv[2], sys.argv[3], sys.argv[4]))
