import json, subprocess, sys, time, http.client, re, tempfile, shutil, statistics
binp = sys.argv[1]
def run(args, label, n=3000):
    p = subprocess.Popen([binp, "--port", "0", "--quiet"] + args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    for line in p.stdout:
        m = re.search(r"port=(\d+)", line)
        if m: port = int(m.group(1)); break
    c = http.client.HTTPConnection("127.0.0.1", port)
    def req(m, path, body=None):
        c.request(m, path, body=json.dumps(body) if body is not None else None, headers={"Content-Type": "application/json"})
        r = c.getresponse(); r.read(); return r.status
    assert req("POST", "/v1/sessions", {"name": "s", "seed": 1, "dt": 1, "network": {"populations": [{"name": "lif", "model": "lif", "size": 10}]}}) == 201
    for _ in range(200): req("POST", "/v1/sessions/s/step", {"steps": 1})
    lat = []
    for _ in range(n):
        t = time.perf_counter(); assert req("POST", "/v1/sessions/s/step", {"steps": 1}) == 200; lat.append(time.perf_counter() - t)
    lat.sort()
    p.terminate(); p.wait()
    return lat[len(lat)//2]*1e6, lat[int(len(lat)*0.99)]*1e6
res = {}
for rep in range(3):
    for label, args in [("no data dir", []), ("journal fsync no", ["--fsync", "no"]), ("journal everysec", ["--fsync", "everysec"]), ("journal always", ["--fsync", "always"])]:
        d = tempfile.mkdtemp()
        a = args + (["--data-dir", d] if args else [])
        res.setdefault(label, []).append(run(a, label))
        shutil.rmtree(d)
for label, v in res.items():
    print(f"{label:18s} median {statistics.median(x[0] for x in v):7.1f} us  p99 {statistics.median(x[1] for x in v):7.1f} us")
