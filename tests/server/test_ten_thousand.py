#!/usr/bin/python3
"""test_ten_thousand.py: 10,000 small sessions on one real server (issue 17; label `slow`).

Creates 10,000 10-neuron sessions, reports the RSS they cost, walks the paged listing while
another connection polls /healthz (the loop must not stall: the slowest /healthz during the
walks stays under 100 ms), stops the server with SIGTERM (every session checkpointed),
restarts it on the same data directory and checks that all 10,000 come back, by name and
step. Prints the figures the README's benchmark table quotes.

Usage: test_ten_thousand.py SPIKED_BIN [N]
"""
import http.client
import json
import multiprocessing
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

BIN = sys.argv[1]
N = int(sys.argv[2]) if len(sys.argv) > 2 else 10000


def start(data):
    p = subprocess.Popen([BIN, "--port", "0", "--data-dir", data, "--max-sessions", str(N + 10),
                          "--max-memory", "200G", "--quiet"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    t0 = time.monotonic()
    for line in p.stdout:
        m = re.search(r"port=(\d+)", line)
        if m:
            return p, int(m.group(1)), time.monotonic() - t0
    raise SystemExit("server did not start: " + p.stderr.read())


def rss(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) * 1024
    return 0


class Conn:
    def __init__(self, port):
        self.c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def req(self, method, path, body=None):
        data = json.dumps(body) if body is not None else None
        self.c.request(method, path, body=data, headers={"Content-Type": "application/json"})
        r = self.c.getresponse()
        raw = r.read()
        return r.status, json.loads(raw) if raw else None


def net(name):
    return {"name": name, "seed": 1, "dt": 1, "network": {
        "populations": [{"name": "lif", "model": "lif", "size": 10}],
        "stimuli": [{"kind": "poisson", "target": "lif", "rate_hz": 60, "weight": 1.2}]}}


def create_range(port, lo, hi, errors):
    c = Conn(port)
    for i in range(lo, hi):
        st, body = c.req("POST", "/v1/sessions", net(f"s{i:05d}"))
        if st != 201:
            errors.append((i, st, body))
            return
        if i % 1000 == 7:  # a few sessions with steps, to check the step comes back
            st, _ = c.req("POST", f"/v1/sessions/s{i:05d}/step", {"steps": 5})
            if st != 200:
                errors.append((i, "step", st))


def walk(port):
    c, names, cursor, pages, worst = Conn(port), [], None, 0, 0.0
    while True:
        t0 = time.monotonic()
        st, body = c.req("GET", "/v1/sessions?limit=100" + (f"&cursor={cursor}" if cursor else ""))
        worst = max(worst, time.monotonic() - t0)
        assert st == 200, (st, body)
        names += [(s["name"], s["step"]) for s in body["sessions"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            return names, pages, worst


def poll(port, stop, q):
    c, lat = Conn(port), []
    while not stop.is_set():
        t = time.monotonic()
        st, _ = c.req("GET", "/healthz")
        lat.append(time.monotonic() - t)
        assert st == 200
    q.put(lat)


def main():
    data = tempfile.mkdtemp(prefix="spiked-10k-")
    try:
        p, port, _ = start(data)
        r0 = rss(p.pid)
        t0 = time.monotonic()
        errors, threads = [], []
        for k in range(4):
            th = threading.Thread(target=create_range, args=(port, k * N // 4, (k + 1) * N // 4, errors))
            th.start()
            threads.append(th)
        for th in threads:
            th.join()
        assert not errors, errors[:3]
        t_create = time.monotonic() - t0
        time.sleep(0.5)
        r1 = rss(p.pid)
        print(f"created {N} sessions in {t_create:.1f} s; RSS {r1 / 1e6:.1f} MB, "
              f"{(r1 - r0) / N:.0f} B per idle 10-neuron session")
        assert (r1 - r0) / N < 50_000, "an idle small session must cost under 50 kB (issue 17)"

        # the prober is its own process: threads of one Python would share the GIL and
        # measure each other, not the server
        stop, q = multiprocessing.Event(), multiprocessing.Queue()
        prober = multiprocessing.Process(target=poll, args=(port, stop, q))
        prober.start()
        time.sleep(0.2)
        for _ in range(3):
            names, pages, worst_page = walk(port)
        stop.set()
        lat = sorted(q.get(timeout=60))
        prober.join()
        print(f"listing {len(names)} sessions: {pages} pages, slowest page {worst_page * 1e3:.1f} ms; "
              f"/healthz during the walks: {len(lat)} probes, median {lat[len(lat) // 2] * 1e3:.2f} ms, "
              f"p99 {lat[int(len(lat) * 0.99)] * 1e3:.2f} ms, max {lat[-1] * 1e3:.2f} ms")
        assert len(names) == N and len(set(names)) == N
        assert lat[-1] < 0.1, f"/healthz stalled {lat[-1] * 1e3:.1f} ms during the listing"

        t0 = time.monotonic()
        p.send_signal(signal.SIGTERM)
        assert p.wait(timeout=600) == 0
        t_stop = time.monotonic() - t0
        files = [f for f in os.listdir(data) if f.endswith(".ckpt")]
        assert len(files) == N, len(files)

        p, port, t_start = start(data)
        back, _, _ = walk(port)
        print(f"SIGTERM saved {len(files)} checkpoints in {t_stop:.1f} s; restart restored "
              f"{len(back)} in {t_start:.1f} s (listening after the restore); RSS {rss(p.pid) / 1e6:.1f} MB")
        assert sorted(back) == sorted(names), "not every session came back as it was"
        assert sum(1 for _, st in back if st == 5) == N // 1000
        p.send_signal(signal.SIGTERM)
        assert p.wait(timeout=600) == 0
    finally:
        shutil.rmtree(data, ignore_errors=True)
    print("ok")


if __name__ == "__main__":
    main()
