#!/usr/bin/env python3
"""flood.py: sign-in flood against riskgated, with /healthz latency measured
before and during it (tests/integration/test_flood.sh, bench/flood_bench.sh).

  flood.py URL --seconds S [--clients 8] [--baseline 3] --user UPN --password PW [--flood-user UPN]

Phase 1 (--baseline seconds): /healthz alone. Phase 2 (--seconds): --clients
processes post wrong passwords to POST /device/v1/activate from 127.0.0.1 on
keep-alive connections while /healthz is measured; halfway through, one
honest activation (the right password for --user) is sent from 127.0.0.2.
Prints one JSON object: latencies (ms), the flood's status counts, how many
429s lacked Retry-After, and the honest sign-in's status. Asserts nothing.
"""
import argparse
import http.client
import json
import multiprocessing
import statistics
import threading
import time
import urllib.parse


def pct(xs, p):
    if not xs:
        return None
    xs = sorted(xs)
    k = min(len(xs) - 1, max(0, int(round(p / 100.0 * len(xs) + 0.5)) - 1))
    return xs[k]


def conn(host, port, source=None):
    return http.client.HTTPConnection(host, port, timeout=30, source_address=(source, 0) if source else None)


def activate(c, tenant, upn, pw):
    body = json.dumps({"tenant": tenant, "userPrincipalName": upn, "password": pw,
                       "device": {"platform": "linux", "deviceName": "flood"}})
    c.request("POST", "/device/v1/activate", body=body, headers={"Content-Type": "application/json"})
    r = c.getresponse()
    r.read()
    return r.status, r.getheader("Retry-After")


def measure(host, port, until, out, interval=0.02):
    c = conn(host, port)
    while time.monotonic() < until:
        t = time.monotonic()
        try:
            c.request("GET", "/healthz")
            r = c.getresponse()
            r.read()
            out.append((time.monotonic() - t) * 1000.0)
        except (OSError, http.client.HTTPException):
            c.close()
            c = conn(host, port)
        time.sleep(interval)
    c.close()


def flooder(host, port, until, args, results):
    """One flooding client, in its own process (so the measuring thread never waits on its GIL)."""
    stats = {}
    c = conn(host, port, "127.0.0.1")
    while time.monotonic() < until:
        try:
            status, ra = activate(c, args.tenant, args.flood_user or args.user, "wrong password!")
        except (OSError, http.client.HTTPException):
            c.close()
            c = conn(host, port, "127.0.0.1")
            status, ra = "error", None
        stats[str(status)] = stats.get(str(status), 0) + 1
        if status == 429 and not ra:
            stats["429_without_retry_after"] = stats.get("429_without_retry_after", 0) + 1
    c.close()
    results.put(stats)


def summary(xs):
    return {"n": len(xs), "median_ms": round(statistics.median(xs), 3) if xs else None,
            "p99_ms": round(pct(xs, 99), 3) if xs else None, "max_ms": round(max(xs), 3) if xs else None}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("--seconds", type=float, default=8)
    ap.add_argument("--baseline", type=float, default=3)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--tenant", default="default")
    ap.add_argument("--user", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--flood-user", default=None)
    args = ap.parse_args()
    u = urllib.parse.urlparse(args.url)
    host, port = u.hostname, u.port

    base = []
    measure(host, port, time.monotonic() + args.baseline, base)

    during, stats = [], {}
    until = time.monotonic() + args.seconds
    results = multiprocessing.Queue()
    procs = [multiprocessing.Process(target=flooder, args=(host, port, until, args, results)) for _ in range(args.clients)]
    for p in procs:
        p.start()
    threads = [threading.Thread(target=measure, args=(host, port, until, during))]
    for t in threads:
        t.start()
    time.sleep(args.seconds / 2)
    honest = {}
    try:
        t0 = time.monotonic()
        c = conn(host, port, "127.0.0.2")
        honest["status"], _ = activate(c, args.tenant, args.user, args.password)
        honest["ms"] = round((time.monotonic() - t0) * 1000.0, 1)
        c.close()
    except (OSError, http.client.HTTPException) as e:
        honest["status"] = "error: %s" % e
    for t in threads:
        t.join()
    for _ in procs:
        for k, v in results.get(timeout=60).items():
            stats[k] = stats.get(k, 0) + v
    for p in procs:
        p.join()
    print(json.dumps({"baseline": summary(base), "flood": summary(during), "flood_statuses": stats,
                      "honest": honest, "clients": args.clients, "seconds": args.seconds}))


if __name__ == "__main__":
    main()
