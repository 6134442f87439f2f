"""
spiked.pynn.local: a private `spiked` server for sim.setup() without a url.

The binary is $SPIKED_BIN, else `spiked` on PATH, else build/server/spiked of the source
tree this package lives in. It is started with --port 0 --quiet --static-dir - on
127.0.0.1; the port is read from its first stdout line ("port=N"). stop() sends SIGTERM
and waits (SIGKILL after 10 s).
"""

import os
import shutil
import subprocess


def find_binary():
    """Path of the spiked binary, or raise FileNotFoundError naming where it looked."""
    env = os.environ.get("SPIKED_BIN")
    if env:
        return env
    found = shutil.which("spiked")
    if found:
        return found
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.abspath(os.path.join(here, "..", "..", "..", ".."))
    cand = os.path.join(root, "build", "server", "spiked")
    if os.access(cand, os.X_OK):
        return cand
    raise FileNotFoundError("spiked: no server binary ($SPIKED_BIN, PATH, %s); pass "
                            "url= to setup() or set SPIKED_URL" % cand)


class LocalServer:
    def __init__(self, binary=None):
        self.binary = binary or find_binary()
        env = dict(os.environ)
        for k in ("SPIKED_TOKEN", "SPIKED_TOKEN_FILE", "SPIKED_DATA_DIR", "SPIKED_PORT"):
            env.pop(k, None)
        self.proc = subprocess.Popen(
            [self.binary, "--port", "0", "--bind", "127.0.0.1", "--quiet", "--static-dir", "-",
             "--sync-ms", "600000"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
        line = self.proc.stdout.readline().decode().strip()
        if not line.startswith("port="):
            self.stop()
            raise RuntimeError("spiked: the local server did not start (%r)" % line)
        self.port = int(line.split("=", 1)[1])
        self.url = "http://127.0.0.1:%d" % self.port

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout:
            self.proc.stdout.close()
        self.proc = None
