"""test_client.py: the Python client (clients/python/spiked) against a real server."""
import json
import os
import threading

import numpy as np
import pytest

import spiked
from conftest import TOKEN, example, small_lif, until


def test_models_list_every_model_with_parameters(client):
    models = {m["name"]: m for m in client.models()}
    assert {"lif", "coba_lif", "alif_bellec2020"} <= set(models)
    lif = client.model("lif")
    assert {p["name"] for p in lif["params"]} >= {"tau_mem_inv", "v_th"}
    with pytest.raises(spiked.SpikedError) as e:
        client.model("no_such_model")
    assert e.value.status == 404


def test_create_from_file_step_and_info(client, make_session):
    s = make_session(example("lif_poisson.json"))
    assert s.created["step"] == 0 and s.created["n_neurons"] == 100
    r = s.step(50)
    assert (r["from_step"], r["to_step"]) == (0, 50)
    assert r["spike_counts"]["lif"] > 0
    info = s.info()
    assert info["step"] == 50 and info["spikes_total"] == r["spike_counts"]["lif"]
    assert s.name in [x["name"] for x in client.sessions()]
    r = s.step(duration_ms=10)
    assert r["to_step"] == 60


def test_create_from_dict_bare_network_and_overrides(client, make_session):
    body = small_lif()
    s = make_session(body["network"], seed=3, dt=0.5)
    assert (s.created["seed"], s.created["dt"]) == (3, 0.5)
    assert s.created["populations"][0]["name"] == "p"


def test_create_names_the_session_in_the_query_too(proxy, name):
    """POST /v1/sessions?name=<name>: what the scale-out router routes a create by."""
    c = spiked.Client(proxy.url, timeout=30)
    s = c.create(small_lif(), name=name)
    try:
        assert f"POST /v1/sessions?name={name} HTTP/1.1".encode() in proxy.sent()
        assert s.info()["name"] == name
    finally:
        s.delete()


def test_server_error_carries_status_code_path_message(client, name):
    bad = {"name": name, "network": {"populations": [{"name": "a", "model": "lif", "size": -1}]}}
    with pytest.raises(spiked.SpikedError) as e:
        client.create(bad)
    err = e.value
    assert (err.status, err.code, err.path) == (400, "invalid_field", "network.populations[0].size")
    assert err.message and err.body["error"]["message"] == err.message
    assert "network.populations[0].size" in str(err)
    with pytest.raises(spiked.SpikedError) as e:
        client.session("no-such-session").step(1)
    assert (e.value.status, e.value.code) == (404, "not_found")


def test_name_conflict_is_409(client, make_session):
    s = make_session(small_lif())
    with pytest.raises(spiked.SpikedError) as e:
        client.create(small_lif(), name=s.name)
    assert (e.value.status, e.value.code) == (409, "conflict")


def test_unreachable_server_raises_connection_error():
    import socket
    with socket.socket() as sk:  # a port nobody listens on
        sk.bind(("127.0.0.1", 0))
        port = sk.getsockname()[1]
    c = spiked.Client(f"http://127.0.0.1:{port}", timeout=5)
    with pytest.raises(spiked.SpikedConnectionError) as e:
        c.sessions()
    assert e.value.status is None and e.value.code == "connection"


def test_spike_counts_match_the_returned_spikes(make_session):
    s = make_session(example("lif_poisson.json"))
    r = s.step(100, return_spikes=True)
    n = sum(len(e["ids"]) for e in r["spikes"])
    assert n == r["spike_counts"]["lif"] > 0
    assert all(0 <= e["step"] < 100 for e in r["spikes"])


def test_state_as_lists_and_numpy(make_session):
    s = make_session(example("lif_poisson.json"))
    s.step(20)
    lst = s.state("lif", ["v", "i"], neurons=range(10, 20))
    assert (lst["first"], lst["count"], lst["step"]) == (10, 10, 20)
    arr = s.state("lif", "v,i", neurons="10:20", numpy=True)
    assert arr["values"]["v"].dtype == np.float32 and arr["values"]["v"].shape == (10,)
    assert np.array_equal(arr["values"]["v"], np.array(lst["values"]["v"], np.float32))
    whole = s.state("lif", "v")
    assert whole["count"] == 100


def test_spikes_pages_are_joined_and_numpy(make_session):
    s = make_session(example("lif_poisson.json"))
    s.step(200)
    full = s.spikes()
    paged = s.spikes(limit=10)
    assert paged["spikes"] == full["spikes"] and full["to_step"] == 200
    npy = s.spikes(numpy=True)["spikes"]
    steps, ids = npy["lif"]
    assert steps.dtype == np.int64 and len(steps) == len(ids) == s.info()["spikes_total"]
    part = s.spikes(from_step=50, to_step=60)
    assert part["spikes"] == [e for e in full["spikes"] if 50 <= e["step"] < 60]


def test_recordings_lists_and_numpy(make_session):
    s = make_session(small_lif(rate_hz=50))
    s.step(30)
    rec = s.recordings(0)
    assert rec["variables"] == ["v", "i"] and rec["neurons"] == [0, 1, 2]
    assert rec["steps"] == list(range(30)) and len(rec["values"]["v"][0]) == 3
    paged = s.recordings(0, limit=7)
    assert paged["steps"] == rec["steps"] and paged["values"] == rec["values"]
    arr = s.recordings(0, from_step=10, numpy=True)
    assert arr["values"]["i"].shape == (20, 3) and arr["steps"][0] == 10
    last = s.state("p", "v", neurons="0:3")["values"]["v"]
    assert np.array_equal(arr["values"]["v"][-1], np.array(last, np.float32))


def test_inject_spikes_forces_them(make_session):
    s = make_session(small_lif(recorder=False))
    assert s.inject_spikes("p", neurons=[3, 7], offset=2) == 2
    assert s.info()["pending_inputs"] == 2
    r = s.step(5, return_spikes=True)
    # NEST's rule: a spike of step t has time (t + 1) * dt (dt = 1 ms here)
    assert r["spikes"] == [{"step": 2, "time_ms": 3, "population": "p", "ids": [3, 7]}]


def test_inject_current_moves_the_target_only(make_session):
    s = make_session(small_lif(recorder=False))
    s.inject_current("p", value=5.0, neurons=[4])
    s.step(1)
    i = s.state("p", "i")["values"]["i"]
    assert i[4] != 0 and all(x == 0 for k, x in enumerate(i) if k != 4)
    with pytest.raises(spiked.SpikedError) as e:
        s.inject_current("p", value=1.0, neurons=[99])
    assert e.value.status == 400 and e.value.path.startswith("inputs[0]")


def test_patch_parameters_and_errors(make_session):
    s = make_session(small_lif())
    p = s.patch("p", v_th=2.0, tau_mem_inv=50)
    assert p["params"]["v_th"] == 2.0 and p["params"]["tau_mem_inv"] == 50
    assert s.info()["populations"][0]["params"]["v_th"] == 2.0
    with pytest.raises(spiked.SpikedError) as e:
        s.patch("p", no_such_param=1)
    assert e.value.status == 400 and "no_such_param" in e.value.path
    with pytest.raises(spiked.SpikedError) as e:
        s.patch("nope", v_th=1)
    assert e.value.status == 404


def test_set_rate_of_a_poisson_stimulus(make_session):
    s = make_session(small_lif(rate_hz=10))
    assert s.set_rate(0, 0)["rate_hz"] == 0
    assert s.step(50)["spike_counts"].get("p", 0) == 0


def test_run_reports_progress_until_done(make_session):
    s = make_session(example("lif_poisson.json"))
    seen = []
    job = s.run(300000, progress=seen.append, poll_s=0.05)
    assert job["state"] == "done" and job["done"] == job["total"] == 300000
    assert seen and seen[-1]["state"] == "done"
    assert all(a["done"] <= b["done"] for a, b in zip(seen, seen[1:]))
    assert s.info()["step"] == 300000


def test_reset_returns_to_step_zero_with_the_same_spikes(make_session):
    s = make_session(example("lif_poisson.json"))
    first = s.step(100, return_spikes=True)["spikes"]
    assert s.reset()["step"] == 0
    assert s.step(100, return_spikes=True)["spikes"] == first


def test_fork_continues_identically_and_delete(client, make_session, name):
    s = make_session(example("lif_poisson.json"))
    s.step(77)
    f = s.fork(name)
    try:
        assert f.created["step"] == 77
        a = s.step(100, return_spikes=True)["spikes"]
        b = f.step(100, return_spikes=True)["spikes"]
        assert a == b and a
    finally:
        f.delete()
    with pytest.raises(spiked.SpikedError) as e:
        f.info()
    assert e.value.status == 404


def test_checkpoint_writes_into_the_data_directory(server, make_session):
    s = make_session(example("lif_poisson.json"))
    s.step(10)
    r = s.checkpoint()
    assert r["step"] == 10 and r["bytes"] > 0
    path = r["path"] if os.path.isabs(r["path"]) else os.path.join(server.data_dir, r["path"])
    assert os.path.getsize(path) == r["bytes"]


def test_token_auth(token_server, name):
    anon = spiked.Client(token_server.url)
    with pytest.raises(spiked.SpikedError) as e:
        anon.sessions()
    assert (e.value.status, e.value.code) == (401, "unauthorized")
    with pytest.raises(spiked.SpikedError):
        spiked.Client(token_server.url, token="wrong").sessions()
    c = spiked.Client(token_server.url, token=TOKEN)
    s = c.create(small_lif(), name=name)
    try:
        s.step(3)
        with s.events(read_timeout=10) as ev:
            assert next(ev).type == "hello"
    finally:
        s.delete()


def test_token_and_url_from_environment(token_server, monkeypatch):
    monkeypatch.setenv("SPIKED_URL", token_server.url)
    monkeypatch.setenv("SPIKED_TOKEN", TOKEN)
    assert isinstance(spiked.Client().sessions(), list)


def read_spikes_until(stream, to_step, timeout=15.0):
    """Spike batches of `stream` until one ends at or after to_step; the stream is closed
    (and the test fails) when that takes longer than `timeout` seconds."""
    out = []
    timer = threading.Timer(timeout, stream.close)
    timer.start()
    try:
        for ev in stream:
            if ev.type == "spikes":
                out.append(ev)
                if ev.data["to_step"] >= to_step:
                    return out
    finally:
        timer.cancel()
    raise AssertionError(f"no spike batch up to step {to_step} within {timeout} s: {out}")


def check_contiguous(batches, start):
    assert batches[0].data["from_step"] == start
    for a, b in zip(batches, batches[1:]):
        assert b.data["from_step"] == a.data["to_step"]
    for b in batches:
        assert b.id == str(b.data["to_step"])


def flatten(batches):
    return [e for b in batches for e in b.data["spikes"]]


def test_event_stream_delivers_every_step(make_session):
    s = make_session(example("lif_poisson.json"))
    with s.events(read_timeout=10) as stream:
        hello = next(stream)
        assert hello.type == "hello" and hello.data["step"] == 0
        s.step(100)
        s.step(50)
        batches = read_spikes_until(stream, 150)
    check_contiguous(batches, 0)
    assert flatten(batches) == s.spikes(to_step=150)["spikes"]


def test_event_stream_reconnects_with_last_event_id(server, proxy, make_session):
    s = make_session(example("lif_poisson.json"))
    via_proxy = spiked.Client(proxy.url).session(s.name)
    with via_proxy.events(retry_s=0.05, read_timeout=10) as stream:
        assert next(stream).type == "hello"
        s.step(100)
        before = read_spikes_until(stream, 100)
        assert stream.last_event_id == "100"
        proxy.cut()  # the network drops the stream
        s.step(100)  # steps 100..200 happen while (or before) it reconnects
        after = read_spikes_until(stream, 200)
        assert stream.reconnects >= 1
    check_contiguous(before + after, 0)
    assert flatten(before + after) == s.spikes(to_step=200)["spikes"]


def test_event_stream_resumes_from_a_given_id(make_session):
    s = make_session(example("lif_poisson.json"))
    s.step(300)
    with s.events(last_event_id=120, read_timeout=10) as stream:
        batches = read_spikes_until(stream, 300)
    check_contiguous(batches, 120)
    assert flatten(batches) == s.spikes(from_step=120, to_step=300)["spikes"]


def test_event_stream_filters_by_population_and_ends_on_delete(client, name):
    s = client.create(example("coba.json"), name=name)
    with s.events(population="inh", read_timeout=10) as stream:
        assert next(stream).data["population"] == "inh"
        s.step(20)
        batches = read_spikes_until(stream, 20)
        assert {e["population"] for e in flatten(batches)} <= {"inh"}
        s.delete()
        rest = list(stream)  # ends by itself after the lifecycle event
    assert rest and rest[-1].type == "lifecycle" and rest[-1].data["event"] == "deleted"


def test_event_stream_of_a_missing_session_raises(client):
    with pytest.raises(spiked.SpikedError) as e:
        next(client.session("no-such-session").events())
    assert e.value.status == 404


def test_sse_parser_follows_the_framing_rules():
    from spiked.events import parse_lines
    lines = ["retry: 1500", "", ": ping", "event: spikes", "id: 7", "data: {\"a\":",
             "data: 1}", "", "data:x", "", "event: nodata", ""]
    got = list(parse_lines(lines))
    assert got == [(None, None, None, 1500), ("spikes", "7", "{\"a\":\n1}", None),
                   ("message", None, "x", None)]
    assert json.loads(got[1][2]) == {"a": 1}


def test_client_rejects_a_bad_url():
    with pytest.raises(ValueError):
        spiked.Client("ftp://example")


def test_until_helper_times_out():
    with pytest.raises(AssertionError):
        until(lambda: False, timeout=0.05)


def test_a_step_the_server_turns_into_a_job_is_awaited(tmp_path):
    from conftest import Server
    srv = Server(str(tmp_path), args=["--sync-ms", "1"])  # every step request becomes a job
    try:
        s = spiked.Client(srv.url).create(example("lif_poisson.json"))
        seen = []
        r = s.step(50000, progress=seen.append, poll_s=0.01)
        assert (r["from_step"], r["to_step"]) == (0, 50000)
        assert r["job"]["state"] == "done" and seen[-1]["done"] == 50000
        info = s.info()
        assert info["step"] == 50000
        # Issue 19 item 7: the same shape as a short step: spike counts per population.
        assert r["spike_counts"] == {p["name"]: p["spikes_total"] for p in info["populations"]}
        assert sum(r["spike_counts"].values()) > 0
        short = s.step(100, return_spikes=True)  # also a job here (--sync-ms 1)
        assert set(short) >= {"from_step", "to_step", "time_ms", "spike_counts", "spikes"}
        assert sum(short["spike_counts"].values()) == sum(len(e["ids"]) for e in short["spikes"])
        assert all(e["time_ms"] == (e["step"] + 1) * 1.0 for e in short["spikes"])
    finally:
        srv.stop()


def test_both_step_answers_have_one_shape(make_session):
    s = make_session(small_lif(rate_hz=200, recorder=False))
    r = s.step(200, return_spikes=True)
    assert "job" not in r
    assert set(r) >= {"from_step", "to_step", "time_ms", "spike_counts", "spikes"}
    assert r["spike_counts"]["p"] == sum(len(e["ids"]) for e in r["spikes"]) > 0


def test_reading_steps_the_history_dropped_warns(make_session):
    body = small_lif(rate_hz=200, recorder=True)
    body["limits"] = {"history_steps": 50}
    s = make_session(body)
    s.step(300)
    with pytest.warns(spiked.TruncatedHistoryWarning, match="gone from the server's history"):
        page = s.spikes(from_step=0)
    assert page["first_kept"] > 0 and all(e["step"] >= page["first_kept"] for e in page["spikes"])
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # reading what is kept does not warn
        s.spikes(from_step=page["first_kept"])


def test_export_carries_spike_times_and_provenance(make_session, tmp_path):
    s = make_session(small_lif(rate_hz=200, recorder=False))
    s.step(100)
    total = s.info()["spikes_total"]
    assert total > 0
    n = s.export_spikes(tmp_path / "x.csv")
    assert n == total
    lines = (tmp_path / "x.csv").read_text().splitlines()
    head = [ln[2:] for ln in lines if ln.startswith("# ")]
    prov = json.loads("\n".join(head))
    assert prov["seed"] == 7 and prov["dt_ms"] == 1 and prov["step"] == 100
    assert prov["models"]["lif"]["reference"].startswith("norse")
    assert prov["server_api_version"] and prov["client_version"] == spiked.__version__
    assert prov["creation_body"]["network"]["populations"][0]["model"] == "lif"
    rows = [ln.split(",") for ln in lines if not ln.startswith("#")]
    assert rows[0] == ["time_ms", "step", "population", "neuron"] and len(rows) == total + 1
    assert all(float(t) == int(st) + 1 for t, st, _, _ in rows[1:])  # (step + 1) * 1 ms
    doc = json.loads((tmp_path / "x.json").read_text()) if s.export_spikes(tmp_path / "x.json") else None
    assert doc["provenance"]["session"] == s.name and doc["spikes"][0]["time_ms"] >= 1
    np = pytest.importorskip("numpy")
    s.export_spikes(tmp_path / "x.npz")
    z = np.load(tmp_path / "x.npz")
    assert np.array_equal(z["p_times_ms"], z["p_steps"] + 1.0) and len(z["p_ids"]) == total
    assert json.loads(str(z["provenance"]))["seed"] == 7


def test_spikes_go_to_neo_with_their_times_and_provenance(make_session):
    neo = pytest.importorskip("neo")
    s = make_session(small_lif(rate_hz=200, recorder=False))
    s.step(100)
    block = s.to_neo()
    assert isinstance(block, neo.Block) and block.annotations["seed"] == 7
    trains = block.segments[0].spiketrains
    assert len(trains) == 10 and sum(len(t) for t in trains) == s.info()["spikes_total"]
    ref = s.spikes()["spikes"]
    t0 = trains[0]
    mine = sorted((e["step"] + 1) * 1.0 for e in ref if 0 in e["ids"])
    assert list(t0.magnitude) == mine and str(t0.units.dimensionality) == "ms"
    assert float(t0.t_stop.magnitude) == 100.0
    assert json.loads(block.annotations["models"])["lif"]["reference"].startswith("norse")


def test_the_shared_demo_refuses_a_pause(tmp_path):
    from conftest import Server
    srv = Server(str(tmp_path), args=["--demo"])
    try:
        demo = spiked.Client(srv.url).session("demo")
        with pytest.raises(spiked.SpikedError) as e:
            demo.set_realtime(False)
        assert (e.value.status, e.value.code, e.value.path) == (403, "forbidden", "realtime")
        assert demo.info()["realtime"] is True
        assert demo.set_realtime(True)["realtime"] is True
    finally:
        srv.stop()
