#!/usr/bin/env python3
"""Rate-limit table under address rotation: REQUESTS reads of an unknown key, each
from a different forwarded address (the server trusts 127.0.0.1 as its proxy),
over a few keep-alive connections. Prints the server's RSS before and after, and
whether clients it never saw (IPv4, IPv6, and loopback itself) can still create
and reveal afterwards.

    benches/rate_table.py [REQUESTS]      (default 300000)

Only 127.0.0.1 is contacted; the run stops after REQUESTS or 120 s.
"""
import http.client, json, random, sys, time

from otsd_bench import rss_mib, start

REQUESTS = int(sys.argv[1]) if len(sys.argv) > 1 else 300_000
UNISSUED = "0" * 31

proc, port = start({"OTSD_RATE_LIMITS__TRUSTED_PROXIES": "127.0.0.1",
                    "OTSD_RATE_LIMITS__REVEAL": "5", "OTSD_RATE_LIMITS__CREATE": "5"})
time.sleep(0.5)
before = rss_mib(proc.pid)

conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
started, sent = time.time(), 0
while sent < REQUESTS and time.time() - started < 120:
    ip = "%d.%d.%d.%d" % (random.randint(1, 223), random.randint(0, 255), random.randint(0, 255), random.randint(1, 254))
    conn.request("POST", f"/api/v1/secret/{UNISSUED}", headers={"X-Forwarded-For": ip, "Content-Length": "0"})
    conn.getresponse().read()
    sent += 1
elapsed = time.time() - started
after = rss_mib(proc.pid)


def call(method, path, ip=None, body=""):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if ip:
        headers["X-Forwarded-For"] = ip
    c.request(method, path, body=body, headers=headers)
    r = c.getresponse()
    return r.status, r.getheader("X-OTS-Intended-Status"), json.loads(r.read())


fresh = []
for ip in ["203.0.113.77", "2001:db8:77::1", None]:
    status, intended, meta = call("POST", "/api/v1/share", ip, "secret=fresh")
    ok = status == 200
    if ok:
        status, intended, out = call("POST", f"/api/v1/secret/{meta['secret_key']}", ip)
        ok = status == 200 and out.get("value") == "fresh"
    fresh.append(f"{ip or 'loopback'}: {'served' if ok else 'REFUSED ' + str(intended)}")
proc.kill()
proc.wait()
print(f"{sent} requests from random addresses in {elapsed:.0f} s ({sent / elapsed:.0f}/s); "
      f"RSS before {before:.0f} MiB, after {after:.0f} MiB")
print("clients never seen: " + "; ".join(fresh))
