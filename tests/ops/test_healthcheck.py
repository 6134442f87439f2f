#!/usr/bin/python3
"""test_healthcheck.py: `spiked --healthcheck`, the container's HEALTHCHECK (docker/Dockerfile).

usage: test_healthcheck.py SPIKED

The image has no curl, so the health check runs the server binary itself:
`spiked --healthcheck` loads the same configuration as the server (flags, SPIKED_*
variables), sends GET /healthz to that port on loopback (127.0.0.1 when bound to 0.0.0.0)
and exits 0 on 200, non-zero otherwise, within a few seconds. Checked here:
  - healthy server, configured by flags and, as in the image, by SPIKED_BIND=0.0.0.0 +
    SPIKED_PORT (with the token file the image names: /healthz needs no token): exit 0;
  - the server stopped (SIGTERM), nothing listening: non-zero, in < 5 s;
  - a port that accepts but never answers: non-zero, in < 5 s.
Exit 77 (CTest: skipped, shown as such) while the binary has no --healthcheck: the server
change is specified in README "Docker"; this test turns into a real one once it is merged.
"""
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time

failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)
        print("FAIL: " + msg, flush=True)


def probe(exe, args=(), env=None, timeout=10):
    t0 = time.time()
    e = {k: v for k, v in os.environ.items() if not k.startswith("SPIKED_")}
    e.update(env or {})
    r = subprocess.run([exe, "--healthcheck", *args], env=e, capture_output=True, text=True,
                       timeout=timeout)
    return r.returncode, time.time() - t0, r.stderr.strip()


def main():
    exe = sys.argv[1]
    helptext = subprocess.run([exe, "--help"], capture_output=True, text=True).stdout
    if "--healthcheck" not in helptext:
        print("SKIPPED: %s has no --healthcheck yet (the Dockerfile's HEALTHCHECK needs it; "
              "see README \"Docker\")" % exe)
        return 77
    tmp = tempfile.mkdtemp(prefix="spiked-hc-")
    token = os.path.join(tmp, "token")
    with open(token, "w") as f:
        f.write("0123456789abcdef0123456789abcdef\n")
    procs = []
    mute = None
    try:
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        srv = subprocess.Popen([exe, "--static-dir", "-"], stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True,
                               env={"SPIKED_BIND": "0.0.0.0", "SPIKED_PORT": str(port),
                                    "SPIKED_TOKEN_FILE": token, "PATH": os.environ["PATH"]})
        procs.append(srv)
        line = srv.stdout.readline()
        check(line.strip() == "port=%d" % port, "server did not start: %r" % line)

        rc, dt, err = probe(exe, env={"SPIKED_BIND": "0.0.0.0", "SPIKED_PORT": str(port),
                                      "SPIKED_TOKEN_FILE": token})
        check(rc == 0, "healthy server, configured as in the image: exit %d (%s)" % (rc, err))
        rc, dt, err = probe(exe, ["--port", str(port)])
        check(rc == 0, "healthy server, --port: exit %d (%s)" % (rc, err))

        # A stopped server (spiked stops accepting as soon as SIGTERM arrives).
        srv.send_signal(signal.SIGTERM)
        srv.wait(10)
        rc, dt, err = probe(exe, ["--port", str(port)])
        check(rc != 0 and dt < 5, "nothing listening: exit %d after %.1f s" % (rc, dt))

        mute = socket.socket()
        mute.bind(("127.0.0.1", 0))
        mute.listen(4)  # accepts (kernel backlog), never answers
        rc, dt, err = probe(exe, ["--port", str(mute.getsockname()[1])])
        check(rc != 0 and dt < 5, "silent server: exit %d after %.1f s" % (rc, dt))
        check(re.search(r"healthcheck", err) is not None, "no message on stderr: %r" % err)
    finally:
        if mute:
            mute.close()
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        for f in os.listdir(tmp):
            os.unlink(os.path.join(tmp, f))
        os.rmdir(tmp)
    print("FAILED: %d check(s)" % len(failures) if failures else "ok")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
