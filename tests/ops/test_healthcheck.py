#!/usr/bin/python3
"""test_healthcheck.py: `spiked --healthcheck`, the container's HEALTHCHECK (docker/Dockerfile).

usage: test_healthcheck.py SPIKED

The image has no curl, so the health check runs the server binary itself:
`spiked --healthcheck` loads the same configuration as the server (flags, SPIKED_*
variables), sends GET /healthz to that port on loopback (127.0.0.1 when bound to 0.0.0.0)
and exits 0 on 200, non-zero otherwise, within a few seconds. Checked here:
  - healthy server, configured by flags and, as in the image, by SPIKED_BIND=0.0.0.0 +
    SPIKED_PORT (with the token file the image names: /healthz needs no token): exit 0;
  - the server stopped (SIGTERM), nothing listening: exit 1, in < 5 s;
  - a port that accepts but never answers: exit 1, in < 5 s;
  - a server answering another status (503): exit 1;
  - a configuration the server would refuse: exit 1 (never 2, which Docker reserves);
  - --help lists the flag.
"""
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
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


def answer_503(srv):
    """Answers one connection with 503, as spiked's /healthz does while shutting down."""
    try:
        conn, _ = srv.accept()
    except OSError:
        return
    with conn:
        conn.settimeout(5)
        try:
            conn.recv(4096)
            conn.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n")
        except OSError:
            pass


def main():
    exe = sys.argv[1]
    helptext = subprocess.run([exe, "--help"], capture_output=True, text=True).stdout
    check("--healthcheck" in helptext, "--help does not list --healthcheck")
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
        check(rc == 1 and dt < 5, "nothing listening: exit %d after %.1f s" % (rc, dt))

        mute = socket.socket()
        mute.bind(("127.0.0.1", 0))
        mute.listen(4)  # accepts (kernel backlog), never answers
        rc, dt, err = probe(exe, ["--port", str(mute.getsockname()[1])])
        check(rc == 1 and dt < 5, "silent server: exit %d after %.1f s" % (rc, dt))
        check(re.search(r"healthcheck", err) is not None, "no message on stderr: %r" % err)

        unwell = socket.socket()
        unwell.bind(("127.0.0.1", 0))
        unwell.listen(4)
        threading.Thread(target=answer_503, args=(unwell,), daemon=True).start()
        rc, dt, err = probe(exe, ["--port", str(unwell.getsockname()[1])])
        check(rc == 1, "a server answering 503: exit %d (%s)" % (rc, err))
        unwell.close()

        rc, dt, err = probe(exe, ["--port", str(port), "--bind", "not-an-address"])
        check(rc == 1, "a configuration the server refuses: exit %d (%s)" % (rc, err))
        rc, dt, err = probe(exe, ["--port", str(port), "--no-such-flag"])
        check(rc == 1, "an unknown flag: exit %d (%s)" % (rc, err))
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
