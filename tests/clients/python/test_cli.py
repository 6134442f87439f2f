"""test_cli.py: `spikectl` run as a user runs it (a subprocess) against a real server."""
import json
import os
import subprocess
import sys

import pytest

from conftest import SPIKECTL, TOKEN, example, small_lif


def run(*args, url=None, env=None, input=None, timeout=60):
    e = dict(os.environ)
    e.pop("SPIKED_TOKEN", None)
    e.pop("SPIKED_URL", None)
    if url:
        e["SPIKED_URL"] = url
    e.update(env or {})
    return subprocess.run([sys.executable, SPIKECTL, *args], capture_output=True, text=True,
                          env=e, input=input, timeout=timeout)


@pytest.fixture
def ctl(server):
    made = []

    def call(*args, **kw):
        p = run(*args, url=server.url, **kw)
        if len(args) > 1 and args[0] == "create" and p.returncode == 0:
            made.append(args[args.index("--name") + 1])
        return p
    yield call
    for n in made:
        run("delete", n, url=server.url)


def ok(p):
    assert p.returncode == 0, f"exit {p.returncode}\nstdout: {p.stdout}\nstderr: {p.stderr}"
    return p.stdout


def test_models_table_and_one_model(ctl):
    out = ok(ctl("models"))
    assert out.splitlines()[0].split()[:3] == ["MODEL", "TIME_UNIT", "INPUTS"]
    assert any(line.startswith("coba_lif ") for line in out.splitlines())
    one = ok(ctl("models", "lif"))
    assert "tau_mem_inv" in one and "DEFAULT" in one
    assert json.loads(ok(ctl("models", "--json")))["models"]


def test_create_step_get_state_spikes_list(ctl, name):
    out = ok(ctl("create", example("lif_poisson.json"), "--name", name))
    assert out.startswith(f"created {name}: 100 neurons")
    out = ok(ctl("step", name, "100"))
    assert out.startswith(f"{name}: step 0 -> 100 (100 ms); spikes: lif ")
    counted = int(out.split("lif ")[1])
    info = json.loads(ok(ctl("get", name, "--json")))
    assert info["step"] == 100 and info["spikes_total"] == counted
    assert "POPULATION" in ok(ctl("get", name))
    assert any(line.split()[0] == name for line in ok(ctl("list")).splitlines()[1:])
    state = ok(ctl("state", name, "lif", "v,i", "--neurons", "5:8")).splitlines()
    assert state[0] == "lif at step 100" and state[1].split() == ["NEURON", "v", "i"]
    assert [row.split()[0] for row in state[2:]] == ["5", "6", "7"]
    spikes = ok(ctl("spikes", name, "--from", "0")).splitlines()[1:]
    assert sum(len(line.split()) - 3 for line in spikes) == counted  # step, time, population
    rec = ok(ctl("recordings", name, "0", "--from", "98")).splitlines()
    assert rec[1].split()[:2] == ["STEP", "v[0]"] and [r.split()[0] for r in rec[2:]] == ["98", "99"]
    ms = json.loads(ok(ctl("step", name, "--ms", "5", "--json")))
    assert (ms["from_step"], ms["to_step"]) == (100, 105)


def test_create_names_the_session_in_the_query_too(proxy, name):
    p = run("create", "-", "--name", name, url=proxy.url, input=json.dumps(small_lif()))
    try:
        ok(p)
        assert f"POST /v1/sessions?name={name} HTTP/1.1".encode() in proxy.sent()
    finally:
        run("delete", name, url=proxy.url)


def test_create_from_stdin_fork_reset_delete(ctl, name):
    ok(ctl("create", "-", "--name", name, input=json.dumps(small_lif())))
    ok(ctl("step", name, "10"))
    assert ok(ctl("fork", name, name + "-copy")) == f"forked {name} into {name}-copy at step 10\n"
    assert ok(ctl("reset", name)) == f"{name} reset to step 0\n"
    assert ok(ctl("delete", name + "-copy")) == f"deleted {name}-copy\n"
    p = ctl("get", name + "-copy")
    assert p.returncode == 1 and "404 not_found" in p.stderr


def test_inputs_patch_rate_checkpoint(ctl, server, name):
    ok(ctl("create", "-", "--name", name, input=json.dumps(small_lif(rate_hz=10))))
    assert "2 input record(s) queued" in ok(ctl("inputs", name, "p", "spike", "--neurons", "1,4"))
    out = ok(ctl("step", name, "1", "--spikes"))
    assert "\n0 1ms p 1 4" in out  # step 0 at dt 1 ms: time (0 + 1) * 1 ms
    ok(ctl("inputs", name, "p", "current", "2.5", "--neurons", "0:2", "--offset", "0"))
    assert json.loads(ok(ctl("get", name, "--json")))["pending_inputs"] == 2
    assert ok(ctl("patch", name, "p", "v_th=1.25")) == f"{name}/p: v_th=1.25\n"
    assert ok(ctl("rate", name, "0", "0")) == f"{name}: stimulus 0 at 0 Hz\n"
    ck = json.loads(ok(ctl("checkpoint", name, "--json")))
    assert ck["step"] == 1 and ck["bytes"] > 0
    body = {"inputs": [{"population": "p", "kind": "spike", "neurons": [9], "offset": 1}]}
    p = ctl("inputs", name, "--file", "-", input=json.dumps(body))
    assert "1 input record(s) queued" in ok(p)


def test_tail_prints_live_batches(ctl, server, name):
    ok(ctl("create", example("lif_poisson.json"), "--name", name))
    ok(ctl("step", name, "60"))
    out = ok(ctl("tail", name, "--from-step", "0", "--count", "1")).splitlines()
    assert out[0].startswith(f"# {name} at step 60")
    assert out[1].startswith("steps 0..60 (60 ms): lif ")
    js = ok(ctl("tail", name, "--from-step", "10", "--count", "1", "--json")).splitlines()
    events = [json.loads(line) for line in js]
    assert events[0]["event"] == "hello" and events[1]["data"]["from_step"] == 10


def test_realtime_export_and_a_tail_that_says_why_it_waits(ctl, server, tmp_path, name):
    ok(ctl("create", "-", "--name", name, input=json.dumps(small_lif(rate_hz=200))))
    ok(ctl("step", name, "20"))
    out = ok(ctl("realtime", name, "on"))
    assert out.startswith(f"{name}: real time on at step ")
    assert ok(ctl("realtime", name, "off")).startswith(f"{name}: real time off at step ")
    f = tmp_path / "s.csv"
    out = ok(ctl("export", name, str(f)))
    assert out.endswith(f" spikes -> {f}\n") and "time_ms,step,population,neuron" in f.read_text()
    # a session that does not step: tail says so on stderr (then waits for batches)
    e = dict(os.environ, SPIKED_URL=server.url)
    e.pop("SPIKED_TOKEN", None)
    p = subprocess.Popen([sys.executable, SPIKECTL, "tail", name, "--count", "1"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=e)
    try:
        line = p.stderr.readline()
    finally:
        p.kill()
        p.wait()
    assert line.startswith(f"# {name} is not stepping (real time off, no job)"), line


def test_server_errors_exit_1_with_the_field(ctl, tmp_path, name):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"network": {"populations": [{"name": "a", "model": "nope",
                                                            "size": 1}]}}))
    p = ctl("create", str(bad), "--name", name)
    assert p.returncode == 1 and p.stdout == ""
    assert p.stderr.startswith("spikectl: error: 400 ") and "network.populations[0].model" in p.stderr
    p = ctl("step", "no-such-session", "5")
    assert p.returncode == 1 and "404 not_found: no session no-such-session" in p.stderr


def test_usage_errors_exit_2(ctl, tmp_path):
    assert ctl("step").returncode == 2
    p = ctl("create", str(tmp_path / "missing.json"))
    assert p.returncode == 2 and "cannot read" in p.stderr
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    p = ctl("create", str(broken))
    assert p.returncode == 2 and "not valid JSON" in p.stderr
    p = ctl("patch", "x", "p", "v_th")
    assert p.returncode == 2 and "NAME=NUMBER" in p.stderr
    p = ctl("step", "x")
    assert p.returncode == 2 and "--ms" in p.stderr


def test_unreachable_server_exits_3():
    import socket
    with socket.socket() as sk:
        sk.bind(("127.0.0.1", 0))
        port = sk.getsockname()[1]
    p = run("list", "--url", f"http://127.0.0.1:{port}")
    assert p.returncode == 3 and "cannot reach" in p.stderr


def test_token_from_flag_and_environment(token_server):
    p = run("list", url=token_server.url)
    assert p.returncode == 1 and "401 unauthorized" in p.stderr and "--token" in p.stderr
    assert run("list", "--token", TOKEN, url=token_server.url).returncode == 0
    assert run("list", "--url", token_server.url, env={"SPIKED_TOKEN": TOKEN}).returncode == 0
