#!/usr/bin/python3
"""make_seeds.py BUILD_DIR: (re)generates the seed corpora of tests/fuzz/corpus/.

  decode_net/  every example network and every proto test case (valid and invalid bodies)
  ckpt_load/   real checkpoints of small networks (each model, connection rule, stimulus kind
               and recorder; stepped, with pending inputs and spike history), written by a
               `spiked` from BUILD_DIR through its API, kept under 64 KiB (-max_len)
  router/      requests of every route (fuzz_router.c's format), good and bad

Run it again after a checkpoint format change. Names are content hashes, as libFuzzer's.
"""
import glob, hashlib, json, os, shutil, subprocess, sys, tempfile, urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
MAX_CKPT = 65536


def put(folder, data):
    os.makedirs(folder, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def decode_net_seeds():
    out = os.path.join(HERE, "corpus", "decode_net")
    files = sorted(glob.glob(os.path.join(ROOT, "examples", "*.json")) +
                   glob.glob(os.path.join(ROOT, "tests", "proto", "cases", "*", "*", "input.json")))
    for f in files:
        put(out, open(f, "rb").read())
    return len(files)


def request(port, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read() or b"null")


def ckpt_seeds(build):
    out = os.path.join(HERE, "corpus", "ckpt_load")
    bodies = [json.load(open(f)) for f in sorted(glob.glob(os.path.join(ROOT, "examples", "*.json")))]
    bodies += [json.load(open(f)) for f in sorted(glob.glob(
        os.path.join(ROOT, "tests", "proto", "cases", "valid", "*", "input.json")))]
    data = tempfile.mkdtemp(prefix="spiked-seeds-")
    p = subprocess.Popen([os.path.join(build, "server", "spiked"), "--port", "0", "--quiet",
                          "--static-dir", "-", "--data-dir", data], stdout=subprocess.PIPE)
    n = 0
    try:
        port = int(p.stdout.readline().decode().split("=")[1])
        for k, b in enumerate(bodies):
            b["name"] = f"s{k}"
            try:
                info = request(port, "POST", "/v1/sessions", b)
            except urllib.error.HTTPError:
                continue
            if info["n_neurons"] > 400:
                continue
            request(port, "POST", f"/v1/sessions/s{k}/step", {"steps": 60})
            pop = info["populations"][0]
            for inp in ({"population": pop["name"], "kind": "spike", "neurons": [0], "offset": 3},
                        {"population": pop["name"], "kind": "current", "neurons": [0],
                         "value": 0.5, "offset": 1}):
                try:  # pending injections in the checkpoint (not every model takes both)
                    request(port, "POST", f"/v1/sessions/s{k}/inputs", {"inputs": [inp]})
                except urllib.error.HTTPError:
                    pass
            request(port, "POST", f"/v1/sessions/s{k}/step", {"steps": 1})
            r = request(port, "POST", f"/v1/sessions/s{k}/checkpoint")
            blob = open(r["path"], "rb").read()
            if len(blob) <= MAX_CKPT:
                put(out, blob)
                n += 1
    finally:
        p.terminate()
        p.wait()
        shutil.rmtree(data)
    return n


def router_seeds():
    out = os.path.join(HERE, "corpus", "router")
    auth = "Authorization: Bearer t\n"
    js = "Content-Type: application/json\n"
    lif = open(os.path.join(ROOT, "examples", "lif_poisson.json")).read()
    def r(method, target, headers=auth, body=""):
        return f"{method} {target}\n{headers}\n{body}"
    seeds = [
        r("GET", "/healthz", ""), r("GET", "/metrics"), r("GET", "/openapi.json", ""),
        r("GET", "/v1/models"), r("GET", "/v1/sessions"), r("GET", "/v1/sessions/s"),
        r("GET", "/v1/sessions/s/state", auth, "") + "",
        r("GET", "/v1/sessions/s/state?variables=v,i&neurons=0:5&population=p"),
        r("GET", "/v1/sessions/s/spikes?from_step=0&limit=10"),
        r("GET", "/v1/sessions/s/recordings/0?from_step=0&limit=3"),
        r("POST", "/v1/sessions", auth + js, lif),
        r("POST", "/v1/sessions/s/step", auth + js, '{"steps":50,"return_spikes":true}'),
        r("POST", "/v1/sessions/s/step", auth + js, '{"duration_ms":20,"async":true}'),
        r("POST", "/v1/sessions/s/inputs", auth + js,
          '{"inputs":[{"population":"p","kind":"spike","neurons":[1,2],"offset":1},'
          '{"population":"p","kind":"current","neurons":[0],"values":[0.5]}]}'),
        r("PATCH", "/v1/sessions/s/populations/p", auth + js, '{"params":{"v_th":1.5}}'),
        r("PATCH", "/v1/sessions/s/stimuli/0", auth + js, '{"rate_hz":100}'),
        r("PATCH", "/v1/sessions/s", auth + js, '{"realtime":true}'),
        r("POST", "/v1/sessions/s/fork", auth + js, '{"name":"f"}'),
        r("POST", "/v1/sessions/s/reset", auth + js, ""),
        r("POST", "/v1/sessions/s/checkpoint", auth + js, ""),
        r("GET", "/v1/sessions/s/jobs/1"), r("DELETE", "/v1/sessions/s/jobs/1"),
        r("DELETE", "/v1/sessions/s"),
        r("GET", "/v1/sessions/s/events?population=p"),
        r("GET", "/v1/sessions/s/events", auth + "Last-Event-ID: 0\n"),
        r("GET", "/v1/sessions/s/events?access_token=t", ""),
        r("OPTIONS", "/v1/sessions", "Origin: http://ok.example\nAccess-Control-Request-Method: POST\n"),
        r("OPTIONS", "/v1/sessions", "Origin: http://evil.example\nAccess-Control-Request-Method: POST\n"),
        r("GET", "/v1/models", "Authorization: Bearer wrong\n"),
        r("PUT", "/v1/sessions"), r("HEAD", "/v1/sessions/s"),
        r("GET", "/"), r("GET", "/js/app.js"), r("GET", "/..%2f..%2fetc/passwd"),
        r("GET", "/v1/sessions/..%2f..%2fetc"), r("GET", "/v1/sessions/%00"),
        r("POST", "/v1/sessions", auth + "Content-Type: text/plain\n", "{}"),
        r("POST", "/v1/sessions", auth, lif), r("POST", "/v1/sessions/s/reset", auth, "{}"),
        r("POST", "/v1/sessions?name=x", auth + js,
          '{"name":"x","network":{"populations":[{"name":"p","model":"lif","size":3}]}}'),
        r("POST", "/v1/sessions?name=y&name=x", auth + js,
          '{"name":"x","network":{"populations":[{"name":"p","model":"lif","size":3}]}}'),
        r("POST", "/v1/sessions", auth + js,
          '{"name":"h","limits":{"spike_history":4000000000,"max_bytes":100000000000},'
          '"network":{"populations":[{"name":"p","model":"lif","size":10}]}}'),
        r("GET", "/v1/models", auth + "Host: rebind.evil.example\n"),
        r("POST", "/v1/sessions/s/step", auth + js, '{"steps":1e400}'),
        r("POST", "/v1/sessions", auth + js, '{"name":"x","network":' + "[" * 40 + "]" * 40 + "}"),
    ]
    # sequences: state that later requests use
    seeds.append("\n~~~\n".join([
        r("GET", "/v1/sessions/s/events"),
        r("POST", "/v1/sessions/s/step", auth + js, '{"steps":300}'),
        r("POST", "/v1/sessions/s/reset", auth + js, ""),
        r("POST", "/v1/sessions/s/step", auth + js, '{"steps":20}')]))
    seeds.append("\n~~~\n".join([
        r("POST", "/v1/sessions/s/step", auth + js, '{"steps":1000,"async":true}'),
        r("GET", "/v1/sessions/s/events", auth + "Last-Event-ID: 0\n"),
        r("DELETE", "/v1/sessions/s/jobs/1"),
        r("GET", "/v1/sessions/s/jobs/1"),
        r("DELETE", "/v1/sessions/s")]))
    seeds.append("\n~~~\n".join([
        r("PATCH", "/v1/sessions/s", auth + js, '{"realtime":true}'),
        r("GET", "/v1/sessions/s/events"),
        r("POST", "/v1/sessions/s/fork", auth + js, '{"name":"g"}'),
        r("PATCH", "/v1/sessions/s", auth + js, '{"realtime":false}'),
        r("GET", "/v1/sessions")]))
    for s in seeds:
        put(out, s.encode())
    return len(seeds)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    print("decode_net seeds:", decode_net_seeds())
    print("router seeds:", router_seeds())
    print("ckpt_load seeds:", ckpt_seeds(sys.argv[1]))
