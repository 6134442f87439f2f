#!/usr/bin/python3
"""make_seeds.py BUILD_DIR: (re)generates the seed corpora of tests/fuzz/corpus/.

  decode_net/  every example network and every proto test case (valid and invalid bodies)
  ckpt_load/   real checkpoints of small networks (each model, connection rule, stimulus kind
               and recorder; stepped, with pending inputs and spike history), written by a
               `spiked` from BUILD_DIR through its API, kept under 64 KiB (-max_len)
  router/      is written by hand (see its README); not touched here

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


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    print("decode_net seeds:", decode_net_seeds())
    print("ckpt_load seeds:", ckpt_seeds(sys.argv[1]))
