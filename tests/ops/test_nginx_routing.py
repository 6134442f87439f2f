#!/usr/bin/python3
"""test_nginx_routing.py: the scale-out router (docker/nginx/spiked.conf.template) with
Debian's nginx and two spiked instances on loopback.

usage: test_nginx_routing.py SPIKED [--nginx /usr/sbin/nginx] [--template PATH] [--sessions N]

Starts two spiked on ephemeral ports and an unprivileged-style nginx (temporary prefix,
configuration rendered from the same template the container uses, upstream addresses
substituted), then through nginx creates N sessions (POST /v1/sessions?name=...), steps
them, reads their state and info, and streams their events. It checks that
  - every request about a session reached one instance only (each instance's access log,
    and each instance's own session list asked directly);
  - the spread over the two instances is not degenerate (each holds >= 20%);
  - events arrive through the router while the stream stays open (no buffering);
  - the router's access log leaves query strings out (they may carry ?access_token=);
  - a fork named base__copy lands with base; a create without ?name= gets 400 from the
    router, one whose ?name= differs from the body's gets 400 from spiked; the session list
    gets 501;
  - with one instance down, its sessions get 502 (not 404 from the other instance) and the
    other instance's sessions still answer.
All processes and the temporary directory are removed, pass or fail.
"""
import argparse
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

NET = {
    "seed": 1,
    "dt": 1,
    "network": {
        "populations": [{"name": "p", "model": "lif", "size": 20}],
        "stimuli": [{"kind": "poisson", "target": "p", "rate_hz": 400, "weight": 0.6,
                     "n_sources": 20}],
    },
}

failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)
        print("FAIL: " + msg, flush=True)
    return cond


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Procs:
    """Processes started by this test; stop() ends each one by its own pid."""

    def __init__(self):
        self.items = []

    def start(self, argv, **kw):
        p = subprocess.Popen(argv, **kw)
        self.items.append(p)
        return p

    def stop(self):
        for p in reversed(self.items):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        deadline = time.time() + 5
        for p in self.items:
            try:
                p.wait(max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def start_spiked(procs, exe, tmp, tag):
    log = open(os.path.join(tmp, "spiked-%s.log" % tag), "w")
    p = procs.start([exe, "--port", "0", "--bind", "127.0.0.1", "--static-dir", "-",
                     "--max-sessions", "256"],
                    stdout=subprocess.PIPE, stderr=log, text=True,
                    env={k: v for k, v in os.environ.items() if not k.startswith("SPIKED_")})
    line = p.stdout.readline()
    m = re.match(r"port=(\d+)", line)
    if not m:
        raise RuntimeError("spiked %s did not print its port (got %r)" % (tag, line))
    return p, int(m.group(1)), log.name


def render(template, listen, upstreams):
    with open(template) as f:
        text = f.read()
    text = text.replace("${SPIKED_PROXY_LISTEN}", listen)
    text = text.replace("${SPIKED_UPSTREAMS}", upstreams)
    left = re.findall(r"\$\{[A-Za-z_]+\}", text)
    if left:
        raise RuntimeError("template placeholders left unsubstituted: %s" % left)
    return text


def start_nginx(procs, nginx, tmp, site):
    for d in ("body", "proxy", "fastcgi", "uwsgi", "scgi", "logs"):
        os.makedirs(os.path.join(tmp, d), exist_ok=True)
    with open(os.path.join(tmp, "spiked.conf"), "w") as f:
        f.write(site)
    user = "user root;\n" if os.geteuid() == 0 else ""
    conf = os.path.join(tmp, "nginx.conf")
    with open(conf, "w") as f:
        f.write("""%sworker_processes 1;
daemon off;
pid %s/nginx.pid;
error_log %s/logs/error.log warn;
events { worker_connections 1024; }
http {
    access_log %s/logs/access.log;
    client_body_temp_path %s/body;
    proxy_temp_path %s/proxy;
    fastcgi_temp_path %s/fastcgi;
    uwsgi_temp_path %s/uwsgi;
    scgi_temp_path %s/scgi;
    include %s/spiked.conf;
}
""" % ((user,) + (tmp,) * 9))
    base = [nginx, "-p", tmp, "-c", conf, "-e", os.path.join(tmp, "logs", "error.log")]
    t = subprocess.run(base + ["-t", "-q"], capture_output=True, text=True)
    if t.returncode != 0:
        raise RuntimeError("nginx -t failed:\n" + t.stderr)
    out = open(os.path.join(tmp, "logs", "stdout.log"), "w")
    return procs.start(base, stdout=out, stderr=subprocess.STDOUT)


def wait_port(port, proc, what):
    deadline = time.time() + 10
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("%s exited with %s" % (what, proc.returncode))
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("%s does not listen on %d" % (what, port))


class Client:
    def __init__(self, port):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)

    def req(self, method, path, body=None):
        headers = {}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        for attempt in (0, 1):
            try:
                self.conn.request(method, path, data, headers)
                r = self.conn.getresponse()
                raw = r.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()  # a keep-alive connection closed by the peer: once more
                if attempt:
                    raise
        try:
            doc = json.loads(raw) if raw else None
        except ValueError:
            doc = raw.decode(errors="replace")
        return r.status, doc


def stream_one_batch(port, name, poke):
    """Opens the event stream through the router, then steps (poke); returns the first
    spikes event's id, or None after 5 s."""
    s = socket.create_connection(("127.0.0.1", port), 5)
    try:
        s.sendall(("GET /v1/sessions/%s/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                   "Accept: text/event-stream\r\n\r\n" % name).encode())
        buf = b""
        poked = False
        deadline = time.time() + 5
        while time.time() < deadline:
            s.settimeout(max(0.05, deadline - time.time()))
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            buf += chunk
            if not poked and b"event: hello" in buf:
                poke()
                poked = True
            m = re.search(rb"id: (\d+)\r?\nevent: spikes", buf)
            if m:
                return int(m.group(1))
        return None
    finally:
        s.close()


def logged_names(path):
    """Session names in the paths of an instance's access log."""
    seen = {}
    with open(path) as f:
        for line in f:
            m = re.search(r" (GET|POST|DELETE|PATCH) /v1/sessions/([^/ ?]+)", line)
            if m:
                seen[m.group(2)] = seen.get(m.group(2), 0) + 1
    return seen


def run(args, tmp, procs):
    a, pa, log_a = start_spiked(procs, args.spiked, tmp, "a")
    b, pb, log_b = start_spiked(procs, args.spiked, tmp, "b")
    ups = "server 127.0.0.1:%d max_fails=0; server 127.0.0.1:%d max_fails=0;" % (pa, pb)
    for attempt in range(3):  # the free port may be taken before nginx binds it: retry
        listen = free_port()
        ngx = start_nginx(procs, args.nginx, tmp, render(args.template,
                                                         "127.0.0.1:%d" % listen, ups))
        try:
            wait_port(listen, ngx, "nginx")
            break
        except RuntimeError:
            if attempt == 2:
                raise
            if ngx.poll() is None:
                ngx.kill()
                ngx.wait()
    c = Client(listen)

    st, doc = c.req("GET", "/healthz?access_token=s3cr3t-in-query")
    check(st == 200, "GET /healthz through the router: %s %s" % (st, doc))

    tag = "%04x" % random.randrange(1 << 16)
    names = ["rt%s-%d" % (tag, i) for i in range(args.sessions)]
    if names:
        names[0] = names[0].replace("-", "_", 1)  # an underscore in a name routes like any other
    expected = {}
    for n in names:
        st, doc = c.req("POST", "/v1/sessions?name=" + n, dict(NET, name=n))
        check(st == 201, "create %s: %s %s" % (n, st, doc))
        expected[n] = 0
    for n in names:
        st, doc = c.req("POST", "/v1/sessions/%s/step" % n, {"steps": 5})
        check(st == 200 and doc.get("to_step") == 5, "step %s: %s %s" % (n, st, doc))
        st, doc = c.req("GET", "/v1/sessions/%s/state?population=p&variables=v" % n)
        check(st == 200 and doc.get("step") == 5, "state %s: %s %s" % (n, st, doc))
        st, doc = c.req("GET", "/v1/sessions/" + n)
        check(st == 200 and doc.get("step") == 5, "info %s: %s %s" % (n, st, doc))
        expected[n] += 3
    # Streams through the router: the batch of a step made after subscribing must arrive
    # while the stream is open (a buffering proxy would hold it).
    poker = Client(listen)
    for n in names[:8]:
        got = stream_one_batch(listen, n, lambda: poker.req("POST", "/v1/sessions/%s/step" % n,
                                                            {"steps": 1}))
        check(got == 6, "events %s through the router: first spikes id %s, want 6" % (n, got))
        expected[n] += 1  # the step; a stream is logged only when the server notices its end

    # A fork named base__copy is created on base's instance and found there again.
    base = names[1]
    st, doc = c.req("POST", "/v1/sessions/%s/fork" % base, {"name": base + "__copy"})
    check(st in (200, 201), "fork %s: %s %s" % (base, st, doc))
    st, doc = c.req("GET", "/v1/sessions/%s__copy" % base)
    check(st == 200, "fork %s__copy reached through the router: %s %s" % (base, st, doc))

    # What the router refuses.
    st, doc = c.req("POST", "/v1/sessions", dict(NET, name="noquery"))
    check(st == 400 and isinstance(doc, dict) and doc["error"]["path"] == "query.name",
          "create without ?name=: %s %s" % (st, doc))
    # ... and what spiked refuses: a query name that is not the body's (the session would
    # land on the replica of the other name, where later requests do not look).
    st, doc = c.req("POST", "/v1/sessions?name=mismatch-q", dict(NET, name="mismatch"))
    check(st == 400 and isinstance(doc, dict) and doc["error"]["path"] == "query.name",
          "create with ?name= unlike the body's name: %s %s" % (st, doc))
    st, doc = c.req("GET", "/v1/sessions")
    check(st == 501, "list through the router: %s %s" % (st, doc))

    # Ask each instance directly which sessions it has.
    held = {}
    for tagx, port in (("a", pa), ("b", pb)):
        st, doc = Client(port).req("GET", "/v1/sessions")
        check(st == 200, "list on %s: %s" % (tagx, st))
        held[tagx] = {s["name"] for s in (doc or {}).get("sessions", [])}
    for n in names:
        where = [t for t in held if n in held[t]]
        check(len(where) == 1, "session %s is on %s (want exactly one instance)" % (n, where))
    on_base = [t for t in held if base in held[t]]
    check(on_base and (base + "__copy") in held[on_base[0]],
          "fork %s__copy is on the instance of %s" % (base, base))
    share = {t: len([n for n in names if n in held[t]]) for t in held}
    lo = min(share.values())
    check(lo >= 0.2 * len(names),
          "degenerate spread over the instances: %s of %d sessions" % (share, len(names)))

    # Each request about a session went to one instance: the access logs.
    logs = {"a": logged_names(log_a), "b": logged_names(log_b)}
    for n in names:
        hits = {t: logs[t].get(n, 0) for t in logs}
        served_by = [t for t in hits if hits[t]]
        check(len(served_by) == 1, "requests for %s were served by %s" % (n, hits))
        check(sum(hits.values()) >= expected[n],
              "requests for %s: %d logged, %d sent" % (n, sum(hits.values()), expected[n]))

    # The router's access log (the template's, on stdout) never holds query strings.
    with open(os.path.join(tmp, "logs", "stdout.log")) as f:
        text = f.read()
    check("/healthz" in text and "s3cr3t" not in text,
          "router access log: want /healthz logged without its query (%d bytes)" % len(text))

    # One instance down: its sessions get 502 from the router, never 404 from the other.
    b.send_signal(signal.SIGTERM)
    b.wait(10)
    on_b = [n for n in names if n in held["b"]]
    on_a = [n for n in names if n in held["a"]]
    for n in on_b[:5]:
        st, doc = c.req("GET", "/v1/sessions/" + n)
        check(st == 502, "session %s with its instance down: %s (want 502)" % (n, st))
    for n in on_a[:5]:
        st, doc = c.req("GET", "/v1/sessions/" + n)
        check(st == 200, "session %s on the live instance: %s" % (n, st))
    print("sessions per instance: %s; requests logged per instance: a %d, b %d" % (
        share, sum(logs["a"].values()), sum(logs["b"].values())))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("spiked")
    ap.add_argument("--nginx", default=shutil.which("nginx") or "/usr/sbin/nginx")
    ap.add_argument("--template", default=os.path.join(ROOT, "docker", "nginx",
                                                       "spiked.conf.template"))
    ap.add_argument("--sessions", type=int, default=64)
    args = ap.parse_args()
    if not os.access(args.nginx, os.X_OK):
        print("nginx not found (%s): install the Debian package nginx (packages.txt, test)"
              % args.nginx)
        return 1
    tmp = tempfile.mkdtemp(prefix="spiked-nginx-")
    procs = Procs()
    t0 = time.time()
    try:
        run(args, tmp, procs)
    except Exception as e:  # noqa: BLE001 - report, then clean up
        failures.append("%s: %s" % (type(e).__name__, e))
        print("ERROR: %s: %s" % (type(e).__name__, e))
    finally:
        procs.stop()
        if failures:
            for name in ("logs/error.log",):
                p = os.path.join(tmp, name)
                if os.path.exists(p):
                    print("--- nginx %s:\n%s" % (name, open(p).read()[-3000:]))
        shutil.rmtree(tmp, ignore_errors=True)
    print("%s (%.1f s)" % ("FAILED: %d check(s)" % len(failures) if failures else "ok",
                           time.time() - t0))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
