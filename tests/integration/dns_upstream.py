#!/usr/bin/env python3
"""A tiny real upstream DNS server for test_webprot.sh and bench/dns_filter.sh (python3 stdlib only).

Usage: dns_upstream.py PORT [ADDR]. Answers every A query over UDP and TCP with 192.0.2.7
(TTL 300) but rg-server.test's, 127.0.0.1 (the test's riskgated, a name only this upstream knows),
every other type with NODATA, copying the question; prints "ready" when listening.
"""
import socket
import struct
import sys
import threading


def answer(q):
    if len(q) < 12:
        return None
    qid, flags, qd = struct.unpack("!HHH", q[:6])
    if qd != 1:
        return None
    i = 12
    while i < len(q) and q[i] != 0:
        i += 1 + q[i]
    end = i + 5
    if end > len(q):
        return None
    question = q[12:end]
    qtype = struct.unpack("!H", q[i + 1:i + 3])[0]
    rd = flags & 0x0100
    if qtype == 1:
        addr = [127, 0, 0, 1] if question[:-4].lower() == b"\x09rg-server\x04test\x00" else [192, 0, 2, 7]
        rr = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 300, 4) + bytes(addr)
        return struct.pack("!HHHHHH", qid, 0x8080 | rd, 1, 1, 0, 0) + question + rr
    return struct.pack("!HHHHHH", qid, 0x8080 | rd, 1, 0, 0, 0) + question


def serve_udp(s):
    while True:
        data, addr = s.recvfrom(65535)
        a = answer(data)
        if a:
            s.sendto(a, addr)


def serve_tcp_conn(c):
    with c:
        while True:
            hdr = c.recv(2)
            if len(hdr) < 2:
                return
            n = struct.unpack("!H", hdr)[0]
            data = b""
            while len(data) < n:
                chunk = c.recv(n - len(data))
                if not chunk:
                    return
                data += chunk
            a = answer(data)
            if a:
                c.sendall(struct.pack("!H", len(a)) + a)


def serve_tcp(s):
    while True:
        c, _ = s.accept()
        threading.Thread(target=serve_tcp_conn, args=(c,), daemon=True).start()


def main():
    port = int(sys.argv[1])
    addr = sys.argv[2] if len(sys.argv) > 2 else "127.0.0.1"
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind((addr, port))
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    t.bind((addr, port))
    t.listen(16)
    threading.Thread(target=serve_tcp, args=(t,), daemon=True).start()
    print("ready", flush=True)
    serve_udp(u)


if __name__ == "__main__":
    main()
