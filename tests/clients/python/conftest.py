"""conftest.py: fixtures of the client tests: real `spiked` servers on loopback.

The server binary is $SPIKED_BIN (CTest passes it), else the first build*/server/spiked of
the source tree. Each server gets an ephemeral port (read from its `port=N` line), a fresh
data directory, and is stopped (SIGTERM, then SIGKILL) after its tests, even when they fail.
"""
import glob
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "clients", "python"))

import spiked  # noqa: E402

EXAMPLES = os.path.join(ROOT, "examples")
SPIKECTL = os.path.join(ROOT, "clients", "cli", "spikectl")
TOKEN = "s3cret-token"


def spiked_bin():
    b = os.environ.get("SPIKED_BIN")
    if b:
        return b
    found = sorted(glob.glob(os.path.join(ROOT, "build*", "server", "spiked")))
    if not found:
        pytest.fail("no spiked binary: build it, or set SPIKED_BIN")
    return found[0]


class Server:
    """A running spiked; .url, .port, .log (its stderr), .stop()."""

    def __init__(self, tmp, args=(), token=None, start_timeout=20.0):
        self.data_dir = os.path.join(tmp, "data")
        self.log_path = os.path.join(tmp, "spiked.log")
        env = dict(os.environ)
        env.pop("SPIKED_TOKEN", None)
        cmd = [spiked_bin(), "--port", "0", "--data-dir", self.data_dir, *args]
        if token:
            tf = os.path.join(tmp, "token")
            with open(tf, "w") as f:
                f.write(token + "\n")
            cmd += ["--token-file", tf]
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self._log, env=env)
        self.port = self._read_port(start_timeout)
        self.url = f"http://127.0.0.1:{self.port}"
        self._wait_healthy(start_timeout)

    def _read_port(self, timeout):
        found = {}

        def reader():  # drains stdout for the server's whole life
            for line in self.proc.stdout:
                if line.startswith(b"port=") and "port" not in found:
                    found["port"] = int(line[5:])
                    ready.set()
            ready.set()

        ready = threading.Event()
        threading.Thread(target=reader, daemon=True).start()
        if not ready.wait(timeout) or "port" not in found:
            self.stop()
            raise RuntimeError(f"spiked printed no port=N line; log:\n{self.log()}")
        return found["port"]

    def _wait_healthy(self, timeout):
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.stop()
                raise RuntimeError(f"spiked did not become healthy; log:\n{self.log()}")
            time.sleep(0.05)

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")[-4000:]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        return self.proc.returncode


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    s = Server(str(tmp_path_factory.mktemp("spiked")))
    yield s
    s.stop()


@pytest.fixture(scope="session")
def token_server(tmp_path_factory):
    s = Server(str(tmp_path_factory.mktemp("spiked-token")), token=TOKEN)
    yield s
    s.stop()


@pytest.fixture
def client(server):
    return spiked.Client(server.url, timeout=30)


@pytest.fixture
def name():
    """A session name unique to the test."""
    return "t-" + uuid.uuid4().hex[:10]


@pytest.fixture
def make_session(client):
    """make_session(network_or_path, **kw) -> Session, deleted after the test."""
    made = []

    def make(network, **kw):
        kw.setdefault("name", "t-" + uuid.uuid4().hex[:10])
        s = client.create(network, **kw)
        made.append(s)
        return s
    yield make
    for s in made:
        try:
            s.delete()
        except spiked.SpikedError:
            pass


def example(name):
    return os.path.join(EXAMPLES, name)


def small_lif(n=10, rate_hz=None, recorder=True):
    """A LIF population, optionally driven by a Poisson stimulus, recording v and i."""
    net = {"populations": [{"name": "p", "model": "lif", "size": n}]}
    if rate_hz:
        net["stimuli"] = [{"kind": "poisson", "target": "p", "rate_hz": rate_hz, "weight": 0.5,
                           "n_sources": 20}]
    if recorder:
        net["recorders"] = [{"population": "p", "variables": ["v", "i"], "neurons": [0, 1, 2],
                             "every": 1}]
    return {"seed": 7, "dt": 1, "network": net}


class Proxy:
    """A TCP forwarder to a local port whose connections cut() drops (network failure).
    .sent() is every byte clients sent through it so far (requests as on the wire)."""

    def __init__(self, target_port):
        self.target = target_port
        self.lsock = socket.create_server(("127.0.0.1", 0))
        self.port = self.lsock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.socks = []
        self.lock = threading.Lock()
        self._sent = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.lsock.accept()
            except OSError:
                return
            u = socket.create_connection(("127.0.0.1", self.target))
            with self.lock:
                self.socks += [c, u]
            threading.Thread(target=self._pump, args=(c, u, self._sent), daemon=True).start()
            threading.Thread(target=self._pump, args=(u, c), daemon=True).start()

    def sent(self):
        with self.lock:
            return b"".join(self._sent)

    def _pump(self, a, b, record=None):
        try:
            while True:
                data = a.recv(65536)
                if not data:
                    break
                if record is not None:
                    with self.lock:
                        record.append(data)
                b.sendall(data)
        except OSError:
            pass
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self):
        with self.lock:
            socks, self.socks = self.socks, []
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def close(self):
        self.lsock.close()
        self.cut()


@pytest.fixture
def proxy(server):
    p = Proxy(server.port)
    yield p
    p.close()


def until(pred, timeout=10.0, what="condition"):
    """Polls pred() until it returns a true value (returned) or the deadline passes."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)
