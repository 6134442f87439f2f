#!/usr/bin/python3
"""test_docker_image.py: docker/Dockerfile and docker/compose.yaml built and run for real,
with nothing but Debian's packages and Debian's mirror (no registry).

usage: test_docker_image.py --work DIR [--root REPO] [--report FILE]

  1. starts a Docker daemon of its own (Debian's docker.io: /usr/sbin/dockerd) with its data
     under DIR/docker (kept between runs as a cache) and its socket in a temporary folder;
  2. makes the base image from Debian's packages: `debootstrap --variant=minbase bookworm`
     from the machine's apt mirror, imported with `docker import` as debian:bookworm-slim
     (the rootfs tarball is kept under DIR and reused);
  3. checks the build context the default builder sends: a probe build over the same context
     (the repository root and its .dockerignore) lists the files: no .git, no build tree, no
     docker/spiked_token (one is put there for the run), and small;
  4. `docker build` (the legacy builder, which ignores Dockerfile.dockerignore) of
     docker/Dockerfile: build time and image size are reported;
  5. runs it as README "Docker" says (token from a secret file, read-only root, no
     capabilities, a volume for /var/lib/spiked, port published on 127.0.0.1): the
     HEALTHCHECK turns healthy; through the published port a request without the token gets
     401, a session is created and stepped 100 steps; `docker stop` (SIGTERM) exits 0 after
     checkpointing it; a new container on the same volume turns healthy and serves the
     session at step 100, and it steps on from there;
  6. `docker compose` (Debian's docker-compose) brings up the scale-out profile: three
     replicas and the router (docker/nginx/Dockerfile: Debian's nginx, since the official
     image needs a registry); sessions created through the router are found through it
     again, and land on more than one replica; then everything is taken down.
Exits 77 (CTest: skipped) with the reason when this machine cannot do it: not root, no
dockerd / debootstrap / docker-compose, a daemon that does not start, or no Debian mirror.
Everything it starts (containers, networks, volumes, the daemon) is removed at the end.
"""
import argparse
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

SKIP = 77
failures = []
report = {}


def check(cond, msg):
    if not cond:
        failures.append(msg)
        print("FAIL: " + msg, flush=True)
    return cond


def skip(why):
    print("SKIP: docker image test not run: " + why, flush=True)
    sys.exit(SKIP)


def log(msg):
    print("[%s] %s" % (time.strftime("%H:%M:%S"), msg), flush=True)


class Docker:
    def __init__(self, sock):
        self.env = dict(os.environ, DOCKER_HOST="unix://" + sock, DOCKER_BUILDKIT="0",
                        COMPOSE_DOCKER_CLI_BUILD="0")

    def run(self, *args, check_rc=True, timeout=900, input=None, cwd=None, env=None):
        e = dict(self.env, **(env or {}))
        r = subprocess.run(args, env=e, capture_output=True, text=True, timeout=timeout,
                           input=input, cwd=cwd)
        if check_rc and r.returncode != 0:
            raise RuntimeError("%s: exit %d\n%s\n%s" % (" ".join(args[:4]), r.returncode,
                                                       r.stdout[-3000:], r.stderr[-3000:]))
        return r

    def docker(self, *args, **kw):
        return self.run("/usr/bin/docker", *args, **kw)


def start_daemon(work, rundir):
    data = os.path.join(work, "docker")
    os.makedirs(data, exist_ok=True)
    sock = os.path.join(rundir, "docker.sock")
    logf = open(os.path.join(work, "dockerd.log"), "w")
    p = subprocess.Popen(["/usr/sbin/dockerd", "--data-root", data,
                          "--exec-root", os.path.join(rundir, "exec"),
                          "--pidfile", os.path.join(rundir, "dockerd.pid"),
                          "-H", "unix://" + sock],
                         stdout=logf, stderr=subprocess.STDOUT, start_new_session=True)
    d = Docker(sock)
    t0 = time.time()
    while time.time() - t0 < 60:
        if p.poll() is not None:
            break
        if os.path.exists(sock) and d.docker("info", check_rc=False, timeout=20).returncode == 0:
            return p, d
        time.sleep(0.5)
    tail = open(os.path.join(work, "dockerd.log")).read()[-1500:]
    stop_daemon(p)
    skip("the Docker daemon did not start on this machine:\n" + tail)


def stop_daemon(p):
    if p and p.poll() is None:
        os.killpg(p.pid, signal.SIGTERM)
        try:
            p.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()


def apt_mirror():
    """The machine's Debian mirror (deb822 or one-line sources), else deb.debian.org."""
    for path in ["/etc/apt/sources.list"] + sorted(
            os.path.join("/etc/apt/sources.list.d", f)
            for f in (os.listdir("/etc/apt/sources.list.d")
                      if os.path.isdir("/etc/apt/sources.list.d") else [])):
        try:
            text = open(path).read()
        except OSError:
            continue
        m = re.search(r"^URIs:\s*(\S+/debian)/?\s*$", text, re.M) or \
            re.search(r"^deb\s+(?:\[[^\]]*\]\s+)?(\S+/debian)/?\s+bookworm\b", text, re.M)
        if m:
            return m.group(1)
    return "http://deb.debian.org/debian"


def base_image(d, work):
    """debian:bookworm-slim made from Debian's packages (debootstrap minbase + docker import)."""
    if d.docker("image", "inspect", "debian:bookworm-slim", check_rc=False).returncode == 0:
        log("base image debian:bookworm-slim already in the daemon's cache")
        return
    tarball = os.path.join(work, "bookworm-minbase.tar")
    if not os.path.exists(tarball):
        root = os.path.join(work, "rootfs")
        shutil.rmtree(root, ignore_errors=True)
        mirror = apt_mirror()
        log("debootstrap --variant=minbase bookworm from %s" % mirror)
        t0 = time.time()
        r = subprocess.run(["debootstrap", "--variant=minbase", "bookworm", root, mirror],
                           capture_output=True, text=True, timeout=1200)
        if r.returncode != 0:
            shutil.rmtree(root, ignore_errors=True)
            skip("debootstrap failed (no Debian mirror reachable?):\n" + r.stdout[-1500:] +
                 r.stderr[-1500:])
        for sub in ("var/cache/apt/archives", "var/lib/apt/lists"):
            for f in os.listdir(os.path.join(root, sub)):
                fp = os.path.join(root, sub, f)
                if os.path.isfile(fp):
                    os.remove(fp)
        subprocess.run(["tar", "-C", root, "-cf", tarball + ".tmp", "."], check=True)
        os.replace(tarball + ".tmp", tarball)
        shutil.rmtree(root, ignore_errors=True)
        report["debootstrap_s"] = round(time.time() - t0, 1)
    with open(tarball, "rb") as f:
        r = subprocess.run(["/usr/bin/docker", "import", "-", "debian:bookworm-slim"], stdin=f,
                           env=d.env, capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        raise RuntimeError("docker import: " + r.stderr)
    log("imported debian:bookworm-slim")


def req(port, method, path, token=None, body=None, timeout=30):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    h = {}
    if token:
        h["Authorization"] = "Bearer " + token
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        h["Content-Type"] = "application/json"
    c.request(method, path, body=data, headers=h)
    r = c.getresponse()
    text = r.read()
    c.close()
    try:
        return r.status, json.loads(text) if text else None
    except ValueError:
        return r.status, text


def req_ready(port, method, path, token=None, body=None, wait=15.0):
    """req() for the first request through a published port after the container turned
    healthy: docker's port proxy may reset connections for a moment after the healthcheck
    (inside the container) passes. Retries connection errors only, for at most `wait` s; any
    HTTP answer is returned at once."""
    t0 = time.time()
    while True:
        try:
            return req(port, method, path, token, body)
        except (ConnectionError, OSError):
            if time.time() - t0 > wait:
                raise
            time.sleep(0.25)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(d, name, timeout=120):
    t0 = time.time()
    st = ""
    while time.time() - t0 < timeout:
        r = d.docker("inspect", "-f", "{{.State.Status}} {{.State.Health.Status}}", name,
                     check_rc=False)
        st = r.stdout.strip()
        if st == "running healthy":
            return time.time() - t0
        if st.startswith("exited") or st.startswith("dead"):
            break
        time.sleep(1)
    logs = d.docker("logs", "--tail", "30", name, check_rc=False)
    check(False, "%s did not turn healthy (%s):\n%s%s" % (name, st, logs.stdout, logs.stderr))
    return None


NET = {"populations": [{"name": "lif", "model": "lif", "size": 100}],
       "projections": [{"source": "lif", "target": "lif",
                        "rule": {"kind": "fixed_probability", "p": 0.1},
                        "weight": 0.2, "delay_steps": 2}],
       "stimuli": [{"kind": "poisson", "target": "lif", "rate_hz": 50, "weight": 0.5,
                    "n_sources": 20}]}


def run_container(d, name, port, tokfile, volume, image):
    d.docker("run", "-d", "--name", name, "-p", "127.0.0.1:%d:8080" % port,
             "-v", "%s:/run/secrets/spiked_token:ro" % tokfile,
             "-v", "%s:/var/lib/spiked" % volume,
             "--read-only", "--tmpfs", "/tmp", "--cap-drop", "ALL",
             "--security-opt", "no-new-privileges:true", image)


def single_container(d, root, tmp, image):
    token = secrets.token_hex(16)
    tokfile = os.path.join(tmp, "spiked_token")
    with open(tokfile, "w") as f:
        f.write(token + "\n")
    os.chmod(tokfile, 0o644)
    vol = "spiked-test-data"
    d.docker("volume", "rm", "-f", vol, check_rc=False)
    d.docker("volume", "create", vol)
    port = free_port()
    try:
        run_container(d, "spiked-test-1", port, tokfile, vol, image)
        t = wait_healthy(d, "spiked-test-1")
        if t is None:
            return
        report["healthy_after_s"] = round(t, 1)
        log("container healthy after %.1f s" % t)
        st, _ = req_ready(port, "GET", "/v1/sessions")
        check(st == 401, "published port, no token: %d, want 401" % st)
        st, _ = req(port, "GET", "/healthz")
        check(st == 200, "published port, /healthz: %d" % st)
        st, b = req(port, "POST", "/v1/sessions", token,
                     {"name": "persist", "seed": 3, "dt": 1, "network": NET})
        check(st == 201, "create through the published port: %d %s" % (st, b))
        st, b = req(port, "POST", "/v1/sessions/persist/step", token, {"steps": 100})
        check(st == 200 and b.get("to_step") == 100, "step 100: %d %s" % (st, b))
        st, spikes1 = req(port, "GET", "/v1/sessions/persist/spikes", token)
        t0 = time.time()
        r = d.docker("stop", "-t", "60", "spiked-test-1")
        stop_s = time.time() - t0
        code = d.docker("inspect", "-f", "{{.State.ExitCode}}", "spiked-test-1").stdout.strip()
        check(code == "0", "docker stop: exit code %s, want 0" % code)
        logs = d.docker("logs", "spiked-test-1", check_rc=False)
        report["stop_s"] = round(stop_s, 1)
        log("docker stop took %.1f s, exit %s" % (stop_s, code))
        d.docker("rm", "spiked-test-1")

        run_container(d, "spiked-test-2", port, tokfile, vol, image)
        t = wait_healthy(d, "spiked-test-2")
        if t is None:
            return
        st, b = req_ready(port, "GET", "/v1/sessions/persist", token)
        check(st == 200 and b.get("step") == 100,
              "restored in a new container: %d %s (logs of the first:\n%s)" % (
                  st, b, (logs.stderr or "")[-1500:]))
        st, spikes2 = req(port, "GET", "/v1/sessions/persist/spikes", token)
        check(st == 200 and spikes2.get("spikes") == spikes1.get("spikes"),
              "the restored spike history differs from the saved one")
        st, b = req(port, "POST", "/v1/sessions/persist/step", token, {"steps": 10})
        check(st == 200 and b.get("to_step") == 110, "restored session steps on: %d %s" % (st, b))
        log("session restored at step 100 in a new container, stepped to 110")
        report["restored"] = st == 200
    finally:
        for n in ("spiked-test-1", "spiked-test-2"):
            d.docker("rm", "-f", n, check_rc=False)
        d.docker("volume", "rm", "-f", vol, check_rc=False)


def scale_out(d, root, tmp):
    r = d.run("docker-compose", "version", check_rc=False)
    if r.returncode != 0:
        check(False, "docker-compose does not run: " + r.stderr)
        return
    t0 = time.time()
    d.docker("build", "-t", "spiked-nginx:local", os.path.join(root, "docker", "nginx"))
    report["nginx_image_build_s"] = round(time.time() - t0, 1)
    # compose resolves ./spiked_token and ./nginx/ next to the file: a copy of docker/
    # with a fresh token, and the machine's open-files limit for the replicas (compose asks
    # 65536, which an unprivileged host may not grant).
    cdir = os.path.join(tmp, "compose")
    os.makedirs(os.path.join(cdir, "nginx"))
    shutil.copy(os.path.join(root, "docker", "compose.yaml"), cdir)
    shutil.copy(os.path.join(root, "docker", "nginx", "spiked.conf.template"),
                os.path.join(cdir, "nginx"))
    token = secrets.token_hex(16)
    with open(os.path.join(cdir, "spiked_token"), "w") as f:
        f.write(token + "\n")
    os.chmod(os.path.join(cdir, "spiked_token"), 0o644)
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    files = ["-f", "compose.yaml"]
    if hard != resource.RLIM_INFINITY and hard < 65536:
        with open(os.path.join(cdir, "compose.override.yaml"), "w") as f:
            f.write("services:\n" + "".join(
                "  spiked-%d: {ulimits: {nofile: {soft: %d, hard: %d}}}\n" % (k, hard, hard)
                for k in (1, 2, 3)))
        files += ["-f", "compose.override.yaml"]
    port = free_port()
    env = {"SPIKED_NGINX_IMAGE": "spiked-nginx:local", "SPIKED_ROUTER_PORT": str(port)}
    base = ["docker-compose", "-p", "spikedtest"] + files + ["--profile", "scale"]
    try:
        t0 = time.time()
        d.run(*base, "up", "-d", "--no-build", "nginx", cwd=cdir, env=env, timeout=300)
        report["compose_up_s"] = round(time.time() - t0, 1)
        log("compose scale profile up in %.1f s" % (time.time() - t0))
        ok = False
        for _ in range(60):
            try:
                if req(port, "GET", "/healthz")[0] == 200:
                    ok = True
                    break
            except OSError:
                pass
            time.sleep(1)
        if not check(ok, "the router never answered /healthz"):
            return
        names = ["alpha", "beta", "gamma", "delta", "eps", "zeta", "eta", "theta"]
        for n in names:
            st, b = req(port, "POST", "/v1/sessions?name=" + n, token,
                         {"name": n, "network": NET})
            check(st == 201, "router: create %s: %d %s" % (n, st, b))
        for _ in range(3):
            for n in names:
                st, b = req(port, "GET", "/v1/sessions/" + n, token)
                check(st == 200, "router: %s not found again: %d %s" % (n, st, b))
        logs = d.run(*base, "logs", "--no-color", "nginx", cwd=cdir, env=env, check_rc=False)
        ups = set(re.findall(r'"GET /v1/sessions/\w+ HTTP/1.1" 200 \d+ \S+ (\S+)', logs.stdout))
        check(len(ups) >= 2, "router: every session on one replica (%s)" % ups)
        report["scale_replicas_used"] = len(ups)
        log("scale-out: %d sessions through the router on %d replicas" % (len(names), len(ups)))
    finally:
        d.run(*base, "down", "-v", "--remove-orphans", cwd=cdir, env=env, check_rc=False,
              timeout=300)


def context_probe(d, root):
    """The files the default builder sends as context (repository root + .dockerignore)."""
    tok = os.path.join(root, "docker", "spiked_token")
    made = not os.path.exists(tok)
    if made:
        with open(tok, "w") as f:
            f.write("not-a-real-token\n")
    try:
        probe = ("FROM debian:bookworm-slim\nCOPY . /ctx\n"
                 "RUN cd /ctx && find . -type f | sort > /files && du -sk . | cut -f1 > /kb\n"
                 "CMD cat /kb /files\n")
        r = d.docker("build", "-q", "-t", "spiked-context-probe", "-f", "-", root, input=probe)
        m = re.search(r"Sending build context to Docker daemon\s+(\S+)", r.stderr + r.stdout)
        out = d.docker("run", "--rm", "spiked-context-probe").stdout.split("\n")
        kb, files = int(out[0]), [f for f in out[1:] if f]
    finally:
        if made:
            os.remove(tok)
        d.docker("rmi", "-f", "spiked-context-probe", check_rc=False)
    report["context_kb"] = kb
    report["context_files"] = len(files)
    bad = [f for f in files if f.startswith("./.git/") or re.match(r"\./(.*/)?build[^/]*/", f)
           or "spiked_token" in f or "/node_modules/" in f]
    check(not bad, "build context holds %d files it must not: %s" % (len(bad), bad[:5]))
    check(kb < 8 * 1024, "build context %d KiB (over 8 MiB)" % kb)
    for need in ("./CMakeLists.txt", "./packages.txt", "./scripts/packages",
                 "./proto/openapi.yaml", "./clients/web/index.html"):
        check(need in files, "build context lacks %s" % need)
    log("build context: %d files, %d KiB" % (len(files), kb))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True, help="cache folder (daemon data, base rootfs)")
    ap.add_argument("--root", default=os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__)))))
    ap.add_argument("--report")
    args = ap.parse_args()
    root = os.path.abspath(args.root)
    if os.geteuid() != 0:
        skip("a Docker daemon of its own needs root (uid %d)" % os.geteuid())
    for tool in ("/usr/sbin/dockerd", "/usr/bin/docker", "/usr/sbin/debootstrap"):
        if not os.path.exists(tool):
            skip("%s missing (install docker.io, debootstrap and docker-compose: "
                 "packages.txt, group test)" % tool)
    if not shutil.which("docker-compose"):
        skip("docker-compose missing (packages.txt, group test)")
    os.makedirs(args.work, exist_ok=True)
    rundir = tempfile.mkdtemp(prefix="skd-")  # short: the socket path has a length limit
    tmp = tempfile.mkdtemp(prefix="spiked-docker-")
    daemon = None
    t_all = time.time()
    try:
        daemon, d = start_daemon(args.work, rundir)
        report["docker"] = d.docker("version", "-f", "{{.Server.Version}}").stdout.strip()
        log("dockerd %s up" % report["docker"])
        base_image(d, args.work)
        context_probe(d, root)
        d.docker("rmi", "-f", "spiked:local", check_rc=False)
        d.docker("builder", "prune", "-af", check_rc=False)
        t0 = time.time()
        r = d.docker("build", "--no-cache", "-f", os.path.join(root, "docker", "Dockerfile"),
                     "-t", "spiked:local", root, timeout=1800)
        report["image_build_s"] = round(time.time() - t0, 1)
        m = re.search(r"Sending build context to Docker daemon\s+(\S+)", r.stdout + r.stderr)
        report["context_sent"] = m.group(1) if m else "?"
        size = int(d.docker("image", "inspect", "-f", "{{.Size}}", "spiked:local").stdout)
        report["image_bytes"] = size
        base = int(d.docker("image", "inspect", "-f", "{{.Size}}", "debian:bookworm-slim").stdout)
        report["base_image_bytes"] = base
        log("image built in %.1f s (context %s): %.1f MB (base %.1f MB)" % (
            report["image_build_s"], report["context_sent"], size / 1e6, base / 1e6))
        single_container(d, root, tmp, "spiked:local")
        scale_out(d, root, tmp)
    except RuntimeError as e:
        check(False, str(e))
    finally:
        report["total_s"] = round(time.time() - t_all, 1)
        report["utc"] = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
        report["failures"] = len(failures)
        stop_daemon(daemon)
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(rundir, ignore_errors=True)
    print("docker: " + json.dumps(report), flush=True)
    if args.report:
        with open(args.report, "w") as f:
            json.dump(report, f, indent=1)
    if failures:
        print("\n%d failure(s)" % len(failures))
        return 1
    print("docker: image built, healthy, checkpointed on stop, restored; scale-out routed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
