#!/usr/bin/python3
"""run_contract.py: the contract (proto/openapi.yaml, as served at /openapi.json) checked by
tools nobody here wrote, against real servers.

usage: run_contract.py --spiked BIN --node-prefix DIR [--contract FILE] [--report FILE]

  1. Spectral (npm @stoplight/spectral-cli, ruleset spectral:oas) lints the served
     /openapi.json: any error fails (warnings are counted and printed).
  2. Prism (npm @stoplight/prism-cli) runs in proxy mode in front of two spiked servers, one
     without a token (with --data-dir and small limits, so that 409, 413 and 429 can be
     provoked) and one with a token; a scripted scenario sends every operation of the
     contract and its errors through Prism. For each exchange Prism reports the violations it
     found in its `sl-violations` header. Fails on:
       - any violation of the response (a status the operation does not list, a body or a
         header that breaks its schema);
       - any violation of a request the scenario marks valid (the contract would refuse what
         the server accepts);
       - a status other than the one the scenario expects (the server's real behaviour);
       - an operation of the contract that the scenario did not exercise.
     Requests marked invalid (a malformed name, a wrong Content-Type...) are expected to be
     flagged by Prism too; they are counted, not failed.
     The two streams' bodies (a string to Prism) are parsed here: `retry:` first, then
     `hello`, and every event's data valid (python3-jsonschema) against the schema the
     events operation names for it in `x-spiked-events`.
  3. Self-check: a copy of the contract without one status (415 of createSession) behind a
     third Prism must turn that status into a response violation.
--contract FILE validates against FILE instead of the served contract (to show that an old
contract is caught). The numbers (exchanges, violations) are printed and written to --report.
Not covered through Prism: 421 (Prism rewrites Host), 500, 503 (out of memory, shutdown), 507
(disk full), a body on a GET (Prism refuses to forward it) and a body that is not JSON at all
(Prism 5.16 never answers it): listed from the server's code.
"""
import argparse
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

failures = []
exchanges = []  # (label, method, path, status, response violations, request violations, valid)
seen_ops = set()


def fail(msg):
    failures.append(msg)
    print("FAIL: " + msg, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, what, timeout=60):
    t0 = time.time()
    while time.time() - t0 < timeout:
        if proc.poll() is not None:
            raise SystemExit("%s exited (%d) before listening" % (what, proc.returncode))
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("%s did not listen on %d within %d s" % (what, port, timeout))


def start_spiked(exe, args, env_extra, tmp, tag):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPIKED_")}
    env.update(env_extra)
    log = open(os.path.join(tmp, "spiked-%s.log" % tag), "w")
    p = subprocess.Popen([exe, "--port", str(port), "--bind", "127.0.0.1", *args], env=env,
                         stdout=log, stderr=subprocess.STDOUT)
    wait_port(port, p, "spiked " + tag)
    return p, port


def start_prism(node_bin, contract, upstream, tmp, tag):
    port = free_port()
    log = open(os.path.join(tmp, "prism-%s.log" % tag), "w")
    p = subprocess.Popen([os.path.join(node_bin, "prism"), "proxy", contract,
                          "http://127.0.0.1:%d" % upstream, "--host", "127.0.0.1",
                          "--port", str(port), "--errors", "false"],
                         stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    wait_port(port, p, "prism " + tag, timeout=120)
    return p, port


def raw(port, method, path, headers=None, body=None, timeout=30):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    hdrs = dict(headers or {})
    data = None
    if body is not None:
        data = body if isinstance(body, (bytes, str)) else json.dumps(body)
        if isinstance(data, str):
            data = data.encode()
        hdrs.setdefault("Content-Type", "application/json")
    c.request(method, path, body=data, headers=hdrs)
    r = c.getresponse()
    text = r.read()
    out = (r.status, {k.lower(): v for k, v in r.getheaders()}, text)
    c.close()
    return out


class Prism:
    def __init__(self, port, contract_ops, doc=None):
        self.port = port
        self.ops = contract_ops
        self.doc = doc

    def op_of(self, method, path):
        """The contract's operation this request hits (concrete paths before templates)."""
        p = urllib.parse.urlsplit(path).path
        best = None
        for (m, tmpl), op in self.ops.items():
            if m != method.lower():
                continue
            a, b = tmpl.strip("/").split("/"), p.strip("/").split("/")
            if len(a) != len(b):
                continue
            if all(x == y or (x.startswith("{") and y) for x, y in zip(a, b)):
                score = sum(not x.startswith("{") for x in a)
                if best is None or score > best[0]:
                    best = (score, op)
        return best[1] if best else None

    def send(self, label, method, path, expect, headers=None, body=None, valid=True,
             timeout=30):
        status, hdrs, text = raw(self.port, method, path, headers, body, timeout)
        viol = json.loads(hdrs.get("sl-violations", "[]"))
        resp_v = [v for v in viol if v.get("location", [""])[0] == "response"]
        req_v = [v for v in viol if v.get("location", [""])[0] != "response"]
        op = self.op_of(method, path)
        if op:
            seen_ops.add(op)
        exchanges.append((label, method, path, status, resp_v, req_v, valid))
        note = ""
        if resp_v:
            fail("%s: %s %s -> %d: response violations %s" % (label, method, path, status,
                                                              json.dumps(resp_v)))
        if req_v and valid:
            fail("%s: %s %s: the contract refuses this valid request: %s" % (
                label, method, path, json.dumps(req_v)))
        if not req_v and not valid:
            note = " (Prism did not flag the invalid request)"
        if status != expect:
            fail("%s: %s %s -> %d, expected %d: %s" % (label, method, path, status, expect,
                                                       text[:200]))
        print("%-34s %-6s %-58s %d  resp %d  req %d%s" % (label[:34], method, path[:58], status,
                                                        len(resp_v), len(req_v), note),
              flush=True)
        return status, hdrs, text


def network(size=20, recorder=True):
    net = {
        "populations": [{"name": "lif", "model": "lif", "size": size,
                         "params": {"tau_mem_inv": 100, "v_th": 1}}],
        "projections": [{"source": "lif", "target": "lif",
                         "rule": {"kind": "fixed_probability", "p": 0.2},
                         "weight": 0.1, "delay_steps": 2}],
        "stimuli": [{"kind": "poisson", "target": "lif", "rate_hz": 200, "weight": 0.5,
                     "n_sources": 10}],
    }
    if recorder:
        net["recorders"] = [{"population": "lif", "variables": ["v"], "neurons": [0, 1],
                             "every": 1}]
    return net


def check_stream(doc, label, body, population):
    """A text/event-stream body against the contract: `retry:` first, then `hello`, every
    event's data valid against its schema in the events operation's x-spiked-events, and the
    stream ends with lifecycle "deleted" (Prism sees the body only as a string)."""
    import jsonschema
    op = doc["paths"]["/v1/sessions/{name}/events"]["get"]
    schemas = op.get("x-spiked-events", {})
    resolver = jsonschema.RefResolver.from_schema(doc)
    blocks = [b for b in body.replace("\r\n", "\n").split("\n\n") if b.strip()]
    events = []
    for b in blocks:
        f = {}
        for line in b.split("\n"):
            if line.startswith(":"):
                continue
            k, _, v = line.partition(":")
            f[k] = v[1:] if v.startswith(" ") else v
        events.append(f)
    if not events or events[0].get("retry") != "2000" or "event" in events[0]:
        fail("%s: the stream does not open with a lone `retry: 2000`: %r" % (label, blocks[:1]))
        return
    if len(events) < 2 or events[1].get("event") != "hello":
        fail("%s: the second block is not `event: hello`: %r" % (label, blocks[1:2]))
    n = 0
    for ev in events[1:]:
        if not ev:
            continue  # a block of comments only (`: ping`)
        name = ev.get("event")
        if name not in schemas:
            fail("%s: event %r is not declared in x-spiked-events: %r" % (label, name, ev))
            continue
        try:
            data = json.loads(ev.get("data", ""))
            jsonschema.Draft202012Validator(schemas[name], resolver=resolver).validate(data)
            n += 1
        except (ValueError, jsonschema.ValidationError) as e:
            fail("%s: event %s breaks its schema: %s" % (label, name, str(e)[:300]))
            continue
        if name == "hello" and data.get("population") != population:
            fail("%s: hello names population %r, want %r" % (label, data.get("population"),
                                                            population))
        if name == "spikes" and ev.get("id") != str(data.get("to_step")):
            fail("%s: spikes id %r is not its to_step %r" % (label, ev.get("id"),
                                                             data.get("to_step")))
    last = json.loads(events[-1].get("data", "{}")) if events[-1].get("data") else {}
    if events[-1].get("event") != "lifecycle" or last.get("event") != "deleted":
        fail("%s: the stream does not end with lifecycle deleted" % label)
    kinds = sorted({e.get("event") for e in events[1:] if e.get("event")})
    print("%-34s %d events valid against their schemas (%s)" % (label, n, ", ".join(kinds)))


def scenario_open(px, sp_port, tmp):
    """Server without a token: every operation and its errors."""
    J = {"Content-Type": "application/json"}
    TXT = {"Content-Type": "text/plain"}
    px.send("health", "GET", "/healthz", 200)
    px.send("metrics", "GET", "/metrics", 200)
    px.send("contract", "GET", "/openapi.json", 200)
    px.send("dashboard", "GET", "/", 200)
    px.send("static file", "GET", "/style.css", 200)
    px.send("static index.html", "GET", "/index.html", 200)
    px.send("static script", "GET", "/js/app.js", 200)
    px.send("static example", "GET", "/examples/index.json", 200)
    px.send("static missing", "GET", "/nope.txt", 404)
    px.send("static hidden", "GET", "/js/.hidden", 404, valid=False)
    px.send("models", "GET", "/v1/models", 200)

    s = {"name": "s1", "seed": 7, "dt": 1, "network": network()}
    st, h, _ = px.send("create", "POST", "/v1/sessions", 201, body=s)
    if h.get("location") != "/v1/sessions/s1":
        fail("create: Location %r" % h.get("location"))
    px.send("create, ?name= equal", "POST", "/v1/sessions?name=s2", 201,
            body={"name": "s2", "network": network(size=2000, recorder=False)})
    px.send("create, name taken", "POST", "/v1/sessions", 409, body=s)
    px.send("create, ?name= differs", "POST", "/v1/sessions?name=other", 400, body=dict(s, name="s3"))
    px.send("create, unknown query", "POST", "/v1/sessions?bogus=1", 400, body=dict(s, name="s3"))
    bad = {"name": "s3", "network": {"populations": [{"name": "p", "model": "lif", "size": 0}]}}
    px.send("create, size 0", "POST", "/v1/sessions", 400, body=bad, valid=False)
    px.send("create, bad name", "POST", "/v1/sessions", 400, body=dict(s, name="a.b"), valid=False)
    px.send("create, text/plain", "POST", "/v1/sessions", 415, headers=TXT,
            body=json.dumps(s), valid=False)
    px.send("create, body too large", "POST", "/v1/sessions", 413,
            body=json.dumps(dict(s, name="s3", pad="x" * 70000)), valid=False)
    px.send("create, limit above cap", "POST", "/v1/sessions", 413,
            body=dict(s, name="s3", limits={"max_neurons": 10 ** 9}))
    px.send("create, foreign Origin", "POST", "/v1/sessions", 403,
            headers={"Origin": "http://evil.example"}, body=dict(s, name="s3"))
    px.send("create, third session", "POST", "/v1/sessions", 201,
            body={"name": "s3", "network": network(size=5, recorder=False)})
    px.send("create, above --max-sessions", "POST", "/v1/sessions", 429,
            body={"name": "s4", "network": network(size=5, recorder=False)})
    px.send("delete s3", "DELETE", "/v1/sessions/s3", 204)

    px.send("list", "GET", "/v1/sessions", 200)
    px.send("info", "GET", "/v1/sessions/s1", 200)
    px.send("info, malformed name", "GET", "/v1/sessions/a.b", 400, valid=False)
    px.send("info, no session", "GET", "/v1/sessions/nope", 404)
    px.send("realtime off", "PATCH", "/v1/sessions/s1", 200, body={"realtime": False})
    px.send("realtime, wrong type", "PATCH", "/v1/sessions/s1", 400, body={"realtime": 1},
            valid=False)
    px.send("realtime, text/plain", "PATCH", "/v1/sessions/s1", 415, headers=TXT,
            body='{"realtime":false}', valid=False)
    px.send("realtime, no session", "PATCH", "/v1/sessions/nope", 404, body={"realtime": False})

    px.send("step", "POST", "/v1/sessions/s1/step", 200, body={"steps": 50, "return_spikes": True})
    px.send("step, duration_ms", "POST", "/v1/sessions/s1/step", 200, body={"duration_ms": 10})
    px.send("step, with inputs", "POST", "/v1/sessions/s1/step", 200,
            body={"steps": 5, "inputs": [{"population": "lif", "kind": "spike", "neurons": [1]}]})
    px.send("step, neither steps nor ms", "POST", "/v1/sessions/s1/step", 400, body={})
    px.send("step, unknown field", "POST", "/v1/sessions/s1/step", 400,
            body={"steps": 1, "bogus": 1}, valid=False)
    px.send("step, above --max-steps", "POST", "/v1/sessions/s1/step", 413,
            body={"steps": 10 ** 8})
    px.send("step, no session", "POST", "/v1/sessions/nope/step", 404, body={"steps": 1})
    px.send("step, body too large", "POST", "/v1/sessions/s1/step", 413,
            body=json.dumps({"steps": 1, "pad": "x" * 70000}), valid=False)
    st, h, text = px.send("step async", "POST", "/v1/sessions/s1/step", 202,
                          body={"steps": 1000000, "async": True})
    job = json.loads(text).get("job", {}).get("id", 0) if st == 202 else 0
    if st == 202 and h.get("location") != "/v1/sessions/s1/jobs/%d" % job:
        fail("step async: Location %r" % h.get("location"))
    px.send("job", "GET", "/v1/sessions/s1/jobs/%d" % job, 200)
    px.send("job cancel", "DELETE", "/v1/sessions/s1/jobs/%d" % job, 200)
    px.send("job, unknown", "GET", "/v1/sessions/s1/jobs/999", 404)
    px.send("job cancel, unknown", "DELETE", "/v1/sessions/s1/jobs/999", 404)
    px.send("job, malformed id", "GET", "/v1/sessions/s1/jobs/x", 404, valid=False)

    # 429 on a full operation queue (--max-queue 1): a long job runs, one operation waits,
    # the next is refused. Sent around Prism where they need not be checked.
    # s2 has 2000 neurons: 5M steps take minutes, far longer than this part needs
    raw(sp_port, "POST", "/v1/sessions/s2/step", body={"steps": 5000000, "async": True})
    waiter = threading.Thread(target=raw, args=(sp_port, "POST", "/v1/sessions/s2/reset"),
                              kwargs={"timeout": 120})
    waiter.start()
    time.sleep(0.5)
    st, h, _ = px.send("reset, queue full", "POST", "/v1/sessions/s2/reset", 429)
    if st == 429 and h.get("retry-after") != "1":
        fail("queue full: Retry-After %r" % h.get("retry-after"))
    st2, _, text = raw(sp_port, "GET", "/v1/sessions/s2")
    jid = json.loads(text).get("job", {}).get("id") if st2 == 200 else None
    if jid is not None:
        raw(sp_port, "DELETE", "/v1/sessions/s2/jobs/%d" % jid)
    waiter.join(120)

    px.send("inputs", "POST", "/v1/sessions/s1/inputs", 200,
            body={"inputs": [{"population": "lif", "kind": "current", "neurons": [0, 1],
                              "value": 2.5, "offset": 1}]})
    px.send("inputs, no population", "POST", "/v1/sessions/s1/inputs", 400,
            body={"inputs": [{"population": "nope", "kind": "spike"}]})
    px.send("inputs, empty", "POST", "/v1/sessions/s1/inputs", 400, body={"inputs": []},
            valid=False)
    px.send("inputs, above max_pending", "POST", "/v1/sessions/s1/inputs", 413,
            body={"inputs": [{"population": "lif", "kind": "current", "value": 1,
                              "step": 10 ** 6 + k} for k in range(60)]})
    px.send("inputs, no session", "POST", "/v1/sessions/nope/inputs", 404,
            body={"inputs": [{"population": "lif", "kind": "spike"}]})
    px.send("population params", "PATCH", "/v1/sessions/s1/populations/lif", 200,
            body={"params": {"v_th": 1.2}})
    px.send("population, unknown param", "PATCH", "/v1/sessions/s1/populations/lif", 400,
            body={"params": {"bogus": 1}})
    px.send("population, unknown", "PATCH", "/v1/sessions/s1/populations/nope", 404,
            body={"params": {"v_th": 1}})
    px.send("population, body too large", "PATCH", "/v1/sessions/s1/populations/lif", 413,
            body=json.dumps({"params": {"v_th": 1}, "pad": "x" * 70000}), valid=False)
    px.send("population, text/plain", "PATCH", "/v1/sessions/s1/populations/lif", 415,
            headers=TXT, body='{"params":{"v_th":1}}', valid=False)
    px.send("stimulus rate", "PATCH", "/v1/sessions/s1/stimuli/0", 200, body={"rate_hz": 40})
    px.send("stimulus, unknown", "PATCH", "/v1/sessions/s1/stimuli/9", 404, body={"rate_hz": 40})
    px.send("stimulus, negative rate", "PATCH", "/v1/sessions/s1/stimuli/0", 400,
            body={"rate_hz": -1}, valid=False)

    px.send("state", "GET", "/v1/sessions/s1/state?population=lif&variables=v,i&neurons=0:10", 200)
    px.send("state, unknown parameter", "GET", "/v1/sessions/s1/state?bogus=1", 400)
    px.send("state, bad range", "GET", "/v1/sessions/s1/state?neurons=5:2", 400)
    px.send("state, unknown variable", "GET", "/v1/sessions/s1/state?variables=zz", 400)
    px.send("state, no session", "GET", "/v1/sessions/nope/state", 404)
    px.send("spikes", "GET", "/v1/sessions/s1/spikes?from_step=0&limit=1000", 200)
    px.send("spikes, population", "GET", "/v1/sessions/s1/spikes?population=lif", 200)
    px.send("spikes, unknown population", "GET", "/v1/sessions/s1/spikes?population=nope", 400)
    px.send("spikes, not a number", "GET", "/v1/sessions/s1/spikes?from_step=x", 400, valid=False)
    px.send("recording", "GET", "/v1/sessions/s1/recordings/0?from_step=0&limit=100", 200)
    px.send("recording, unknown", "GET", "/v1/sessions/s1/recordings/7", 404)
    px.send("recording, unknown parameter", "GET", "/v1/sessions/s1/recordings/0?bogus=1", 400)

    px.send("checkpoint", "POST", "/v1/sessions/s1/checkpoint", 200)
    px.send("checkpoint, no session", "POST", "/v1/sessions/nope/checkpoint", 404)
    st, h, _ = px.send("fork", "POST", "/v1/sessions/s1/fork", 201, body={"name": "s1-copy"})
    if h.get("location") != "/v1/sessions/s1-copy":
        fail("fork: Location %r" % h.get("location"))
    px.send("fork, name taken", "POST", "/v1/sessions/s1/fork", 409, body={"name": "s2"})
    px.send("fork, bad name", "POST", "/v1/sessions/s1/fork", 400, body={"name": "a.b"},
            valid=False)
    px.send("fork, above --max-sessions", "POST", "/v1/sessions/s2/fork", 429,
            body={"name": "s5"})
    px.send("reset", "POST", "/v1/sessions/s1/reset", 200)
    px.send("reset, no session", "POST", "/v1/sessions/nope/reset", 404)
    px.send("reset, text/plain body", "POST", "/v1/sessions/s1/reset", 415, headers=TXT,
            body="x", valid=False)

    # Streams: Prism answers once the stream has ended, so each one is ended by deleting its
    # session (lifecycle "deleted").
    def stream(label, name, path, extra=None):
        out = {}
        th = threading.Thread(target=lambda: out.update(r=px.send(
            label, "GET", path, 200, headers=extra, timeout=60)))
        th.start()
        time.sleep(1.5)
        raw(sp_port, "POST", "/v1/sessions/%s/step" % name, body={"steps": 20})
        raw(sp_port, "POST", "/v1/sessions/%s/step" % name, body={"steps": 30, "async": True})
        time.sleep(1)  # the job's `progress` events (it is answered 202)
        raw(sp_port, "DELETE", "/v1/sessions/%s" % name)
        th.join(60)
        return out.get("r")
    r = stream("events", "s1-copy", "/v1/sessions/s1-copy/events?population=lif")
    if r:
        check_stream(px.doc, "events", r[2].decode(), "lif")
    raw(sp_port, "POST", "/v1/sessions/s1/step", body={"steps": 100})
    raw(sp_port, "POST", "/v1/sessions/s1/fork", body={"name": "s1-copy"})
    r = stream("events, Last-Event-ID", "s1-copy", "/v1/sessions/s1-copy/events",
               {"Last-Event-ID": "40"})
    if r:
        check_stream(px.doc, "events, Last-Event-ID", r[2].decode(), None)
    px.send("events, unknown parameter", "GET", "/v1/sessions/s1/events?bogus=1", 400)
    px.send("events, unknown population", "GET", "/v1/sessions/s1/events?population=nope", 400)
    px.send("events, bad Last-Event-ID", "GET", "/v1/sessions/s1/events", 400,
            headers={"Last-Event-ID": "abc"}, valid=False)
    px.send("events, no session", "GET", "/v1/sessions/nope/events", 404)
    # --max-subscribers 1: one stream held open directly, the next one is refused.
    hold = socket.create_connection(("127.0.0.1", sp_port))
    hold.sendall(b"GET /v1/sessions/s2/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    hold.recv(4096)
    px.send("events, above --max-subscribers", "GET", "/v1/sessions/s2/events", 429)
    hold.close()

    px.send("delete", "DELETE", "/v1/sessions/s1", 204)
    px.send("delete, again", "DELETE", "/v1/sessions/s1", 404)
    px.send("delete, foreign Origin", "DELETE", "/v1/sessions/s2", 403,
            headers={"Origin": "http://evil.example"})


def scenario_token(px, token):
    """Server with a token: optional bearer auth, access_token, open routes, 409 checkpoint."""
    B = {"Authorization": "Bearer " + token}
    px.send("token: health, no token", "GET", "/healthz", 200)
    px.send("token: contract, no token", "GET", "/openapi.json", 200)
    px.send("token: dashboard, no token", "GET", "/", 200)
    px.send("token: models, no token", "GET", "/v1/models", 401)
    px.send("token: models, wrong token", "GET", "/v1/models", 401,
            headers={"Authorization": "Bearer nope"})
    px.send("token: models, bearer", "GET", "/v1/models", 200, headers=B)
    px.send("token: models, access_token", "GET", "/v1/models?access_token=" + token, 200)
    px.send("token: metrics, no token", "GET", "/metrics", 401)
    px.send("token: list, access_token", "GET", "/v1/sessions?access_token=" + token, 200)
    px.send("token: create, no token", "POST", "/v1/sessions", 401,
            body={"name": "t1", "network": network(size=5)})
    px.send("token: create, access_token on POST", "POST",
            "/v1/sessions?access_token=" + token, 401,
            body={"name": "t1", "network": network(size=5)})
    px.send("token: create", "POST", "/v1/sessions", 201, headers=B,
            body={"name": "t1", "network": network(size=5)})
    px.send("token: checkpoint, no --data-dir", "POST", "/v1/sessions/t1/checkpoint", 409,
            headers=B)
    px.send("token: info, no token", "GET", "/v1/sessions/t1", 401)
    px.send("token: delete", "DELETE", "/v1/sessions/t1", 204, headers=B)


def contract_ops(doc):
    ops = {}
    for path, item in doc["paths"].items():
        for m in ("get", "put", "post", "delete", "patch"):
            if m in item:
                ops[(m, path)] = item[m].get("operationId", m + " " + path)
    return ops


def lint(node_bin, contract, tmp):
    rules = os.path.join(tmp, ".spectral.yaml")
    with open(rules, "w") as f:
        f.write('extends: ["spectral:oas"]\n')
    r = subprocess.run([os.path.join(node_bin, "spectral"), "lint", "-r", rules, "-f", "json",
                        "--fail-severity", "error", contract], capture_output=True, text=True,
                       timeout=300)
    try:
        found = json.loads(r.stdout or "[]")
    except ValueError:
        fail("spectral: no JSON output: %s %s" % (r.stdout[-500:], r.stderr[-500:]))
        return 0, 0
    errors = [x for x in found if x.get("severity") == 0]
    warnings = [x for x in found if x.get("severity") == 1]
    for x in errors:
        fail("spectral: %s at %s: %s" % (x.get("code"), ".".join(map(str, x.get("path", []))),
                                          x.get("message")))
    for x in warnings:
        print("spectral warning: %s at %s" % (x.get("code"), ".".join(map(str, x.get("path", [])))))
    print("spectral: %d errors, %d warnings" % (len(errors), len(warnings)), flush=True)
    return len(errors), len(warnings)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--spiked", required=True)
    ap.add_argument("--node-prefix", required=True, help="folder holding node_modules/")
    ap.add_argument("--static-dir", default=os.path.join(
        os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
        "clients", "web"))
    ap.add_argument("--contract", help="validate against this file, not the served contract")
    ap.add_argument("--report")
    args = ap.parse_args()
    node_bin = os.path.join(args.node_prefix, "node_modules", ".bin")
    for tool in ("prism", "spectral"):
        if not os.path.exists(os.path.join(node_bin, tool)):
            raise SystemExit("%s not found under %s (the contract_npm fixture installs it)"
                             % (tool, node_bin))
    tmp = tempfile.mkdtemp(prefix="spiked-contract-")
    procs = []
    t0 = time.time()
    try:
        data = os.path.join(tmp, "data")
        os.mkdir(data)
        limits = ["--static-dir", args.static_dir, "--max-sessions", "3", "--max-queue", "1",
                  "--max-subscribers", "1", "--max-body-bytes", "64k", "--max-steps", "5000000",
                  "--max-neurons", "100000", "--max-pending", "50", "--sync-ms", "60000",
                  "--quiet"]
        a, a_port = start_spiked(args.spiked, ["--data-dir", data] + limits, {}, tmp, "open")
        procs.append(a)
        token = "contract-test-token-0123456789"
        b, b_port = start_spiked(args.spiked, ["--static-dir", args.static_dir, "--quiet"],
                                 {"SPIKED_TOKEN": token}, tmp, "token")
        procs.append(b)
        contract = args.contract
        if not contract:
            st, _, text = raw(a_port, "GET", "/openapi.json")
            if st != 200:
                raise SystemExit("GET /openapi.json: %d" % st)
            contract = os.path.join(tmp, "openapi.json")
            with open(contract, "wb") as f:
                f.write(text)
        with open(contract) as f:
            doc = json.load(f)
        n_err, n_warn = lint(node_bin, contract, tmp)
        pa, pa_port = start_prism(node_bin, contract, a_port, tmp, "open")
        procs.append(pa)
        pb, pb_port = start_prism(node_bin, contract, b_port, tmp, "token")
        procs.append(pb)
        ops = contract_ops(doc)
        scenario_open(Prism(pa_port, ops, doc), a_port, tmp)
        scenario_token(Prism(pb_port, ops), token)
        # The validator can fail: the same contract without createSession's 415 must make
        # Prism report the 415 of a text/plain create as a response violation.
        broken = json.loads(json.dumps(doc))
        del broken["paths"]["/v1/sessions"]["post"]["responses"]["415"]
        bpath = os.path.join(tmp, "openapi-without-415.json")
        with open(bpath, "w") as f:
            json.dump(broken, f)
        pc, pc_port = start_prism(node_bin, bpath, a_port, tmp, "broken")
        procs.append(pc)
        st, h, _ = raw(pc_port, "POST", "/v1/sessions", {"Content-Type": "text/plain"}, "{}")
        caught = [v for v in json.loads(h.get("sl-violations", "[]"))
                  if v.get("location", [""])[0] == "response"]
        if st != 415 or not caught:
            fail("self-check: Prism did not flag an undeclared 415 (status %d, %s)" % (
                st, h.get("sl-violations")))
        else:
            print("self-check: an undeclared 415 is caught: %s" % caught[0].get("message"))
        missing = sorted(set(ops.values()) - seen_ops)
        if missing:
            fail("operations the scenario did not exercise: %s" % ", ".join(missing))
        n_resp = sum(len(e[4]) for e in exchanges)
        n_req = sum(len(e[5]) for e in exchanges)
        n_req_valid = sum(len(e[5]) for e in exchanges if e[6])
        statuses = sorted({e[3] for e in exchanges})
        summary = {
            "exchanges": len(exchanges), "operations": len(ops),
            "operations_exercised": len(seen_ops & set(ops.values())),
            "response_violations": n_resp, "request_violations": n_req,
            "request_violations_of_valid_requests": n_req_valid,
            "statuses": statuses, "spectral_errors": n_err, "spectral_warnings": n_warn,
            "failures": len(failures), "seconds": round(time.time() - t0, 1),
            "utc": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),
        }
        print("contract: " + json.dumps(summary), flush=True)
        if args.report:
            with open(args.report, "w") as f:
                json.dump(summary, f, indent=1)
    finally:
        for p in procs:
            if p.poll() is None:
                if p in procs[2:]:
                    try:
                        os.killpg(p.pid, signal.SIGTERM)
                    except OSError:
                        pass
                else:
                    p.terminate()
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
        shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print("\n%d failure(s)" % len(failures))
        return 1
    print("contract: every exchange conforms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
