#!/usr/bin/env python3
"""Memory under stalled uploads: N clients each send most of a large body, then
stall; RSS of the release server is read before, at the peak, and after the
clients leave. Runs twice in one go: with the shipped limits, and with the body
budget and deadline lifted (what the server did before they existed), so the two
figures compare on the same machine at the same time.

    benches/stalled_bodies.py [CLIENTS] [BYTES]     (default 400 clients, 524000 B)

Only 127.0.0.1 is contacted; every socket is closed within about a minute.
"""
import os, socket, sys, time

from otsd_bench import rss_mib, start

CLIENTS = int(sys.argv[1]) if len(sys.argv) > 1 else 400
BYTES = int(sys.argv[2]) if len(sys.argv) > 2 else 524_000


def run(label, env_extra):
    proc, port = start(env_extra)
    time.sleep(0.5)
    before = rss_mib(proc.pid)
    head = (f"POST /api/v1/share HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {BYTES + 100}\r\n\r\nsecret=").encode()
    chunk = b"x" * 65536
    socks, refused = [], 0
    started = time.time()
    for _ in range(CLIENTS):
        s = socket.create_connection(("127.0.0.1", port))
        s.settimeout(2)
        try:
            s.sendall(head)
            sent = 0
            while sent < BYTES:
                n = min(len(chunk), BYTES - sent)
                s.sendall(chunk[:n])
                sent += n
        except OSError:
            refused += 1
        socks.append(s)
        if time.time() - started > 30:
            break
    time.sleep(1)
    peak = rss_mib(proc.pid)
    answered = 0
    for s in socks:
        s.setblocking(False)
        try:
            if s.recv(1 << 16):
                answered += 1
        except OSError:
            pass
    for s in socks:
        s.close()
    time.sleep(3)
    after = rss_mib(proc.pid)
    proc.kill()
    proc.wait()
    print(f"{label:>22}: clients {len(socks)}, refused early {answered + refused}, "
          f"RSS before {before:.0f} MiB, stalled {peak:.0f} MiB, after they left {after:.0f} MiB")


if os.environ.get("SHIPPED_ONLY"):
    run("shipped limits", {})
    sys.exit(0)
run("limits lifted", {"OTSD_LIMITS__MAX_BODY_BYTES_IN_FLIGHT": str(1 << 40), "OTSD_LIMITS__BODY_TIMEOUT_SECS": "3600"})
run("shipped limits", {})
