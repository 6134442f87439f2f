"""test_pynn_backend.py: tiny PyNN scripts run end to end on pyNN.spiked (CTest
clients_pynn, label clients). Each script is written as a PyNN user writes it; the server
is a private `spiked` that sim.setup() starts itself ($SPIKED_BIN, or the build folder)
and sim.end() stops. Expected values come from the models' closed forms, not from runs.
"""
import math
import os
import subprocess
import sys
import tempfile

import numpy as np
import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
CLIENT = os.path.join(ROOT, "clients", "python")
sys.path.insert(0, CLIENT)

import spiked.pynn as sim  # noqa: E402
from spiked.pynn import simulator  # noqa: E402


@pytest.fixture
def fresh():
    yield
    sim.end()


def test_setup_without_url_starts_a_private_server_and_end_stops_it(monkeypatch):
    monkeypatch.delenv("SPIKED_URL", raising=False)
    sim.setup(timestep=0.1)
    server = simulator.state.local_server
    assert server is not None and server.proc.poll() is None
    assert simulator.state.client.health()["status"] == "ok"
    proc = server.proc
    sim.end()
    assert proc.poll() is not None
    assert simulator.state.local_server is None


def test_weights_and_delays_read_back_exactly_as_set(fresh):
    sim.setup(timestep=0.1)
    a = sim.Population(2, sim.SpikeSourceArray(spike_times=[1.0]))
    b = sim.Population(3, sim.IF_curr_exp())
    prj = sim.Projection(a, b, sim.AllToAllConnector(),
                         sim.StaticSynapse(weight=0.0123, delay=1.7))
    sim.run(1.0)
    w = prj.get("weight", format="array")
    d = prj.get("delay", format="array")
    assert w.shape == (2, 3) and np.all(w == 0.0123)
    assert np.all(d == 1.7)
    info = simulator.state.session.info()
    assert [p["n_synapses"] for p in info["projections"]] == [6]


def test_membrane_under_i_offset_follows_the_closed_form(fresh):
    # IF_curr_exp, 1 nA into 1 nF, tau_m 20 ms: v(t) = v_rest + 20 mV (1 - exp(-t/20))
    sim.setup(timestep=0.1)
    p = sim.Population(1, sim.IF_curr_exp(i_offset=1.0, cm=1.0, tau_m=20.0, v_rest=-65.0,
                                          v_thresh=-50.0))
    p.record(["v", "spikes"])
    sim.run(40.0)
    seg = p.get_data().segments[0]
    v = seg.filter(name="v")[0]
    assert v.shape == (401, 1)
    t = v.times.magnitude
    expect = -65.0 + 20.0 * (1.0 - np.exp(-t / 20.0))
    before = t < 27.7
    assert np.max(np.abs(v.magnitude[before, 0] - expect[before])) < 1e-3
    # threshold -50 is crossed at 20 ln 4 = 27.726 ms: spike time is the end of that step
    spikes = seg.spiketrains[0].magnitude
    assert len(spikes) == 1
    assert spikes[0] == pytest.approx(math.ceil(20 * math.log(4) / 0.1) * 0.1, abs=1e-9)


def test_spike_source_array_times_come_back_and_drive_a_psp_after_the_delay(fresh):
    sim.setup(timestep=0.1)
    src = sim.Population(1, sim.SpikeSourceArray(spike_times=[2.0, 7.5]))
    cell = sim.Population(1, sim.IF_curr_exp(tau_syn_E=2.0))
    src.record("spikes")
    cell.record("v")
    sim.Projection(src, cell, sim.OneToOneConnector(), sim.StaticSynapse(weight=0.5, delay=1.0),
                   receptor_type="excitatory")
    sim.run(10.0)
    times = src.get_data().segments[0].spiketrains[0].magnitude
    assert list(times) == [2.0, 7.5]
    v = cell.get_data().segments[0].filter(name="v")[0].magnitude[:, 0]
    # at rest (-65) until the first spike arrives at 2.0 + 1.0 ms, then depolarised
    assert np.all(v[:30] == -65.0)
    assert v[35] > -64.9


def test_inhibitory_projection_onto_a_conductance_cell_hyperpolarises(fresh):
    sim.setup(timestep=0.1)
    src = sim.Population(1, sim.SpikeSourceArray(spike_times=[1.0]))
    cell = sim.Population(1, sim.IF_cond_exp(v_rest=-60.0, e_rev_I=-80.0))
    cell.record(["v", "gsyn_inh"])
    sim.Projection(src, cell, sim.OneToOneConnector(), sim.StaticSynapse(weight=0.01, delay=1.0),
                   receptor_type="inhibitory")
    sim.run(10.0)
    seg = cell.get_data().segments[0]
    v = seg.filter(name="v")[0].magnitude[:, 0]
    g = seg.filter(name="gsyn_inh")[0].magnitude[:, 0]
    assert v.min() < -60.5
    assert g.max() == pytest.approx(0.01, rel=1e-3)   # uS: the 0.01 weight, back in PyNN units


def test_reset_repeats_the_run_and_keeps_both_segments(fresh):
    sim.setup(timestep=0.1)
    src = sim.Population(5, sim.SpikeSourcePoisson(rate=200.0))
    src.record("spikes")
    sim.run(50.0)
    sim.reset()
    sim.run(50.0)
    segs = src.get_data().segments
    assert len(segs) == 2
    a = [list(st.magnitude) for st in segs[0].spiketrains]
    b = [list(st.magnitude) for st in segs[1].spiketrains]
    assert a == b and sum(map(len, a)) > 10


def test_per_neuron_parameters_raise_not_implemented_naming_the_parameter(fresh):
    sim.setup(timestep=0.1)
    sim.Population(2, sim.IF_curr_exp(tau_m=[10.0, 20.0]))
    with pytest.raises(NotImplementedError, match="tau_m"):
        sim.run(1.0)


def test_install_writes_the_shim_and_import_pynn_spiked_works():
    import pyNN
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["cp", "-r", os.path.dirname(pyNN.__file__), tmp], check=True)
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([tmp, CLIENT]))
        out = subprocess.run([sys.executable, "-m", "spiked.pynn", "install", "--target", tmp],
                             env=env, check=True, capture_output=True, text=True).stdout
        assert out.strip() == os.path.join(tmp, "pyNN", "spiked", "__init__.py")
        r = subprocess.run([sys.executable, "-c",
                            "import pyNN.spiked as sim; print(sim.IF_cond_exp.spiked_model)"],
                           env=env, capture_output=True, text=True, cwd=tmp)
        assert r.stdout.strip() == "iaf_cond_exp", r.stderr


def test_dc_source_acts_from_start_plus_dt_and_a_change_between_runs_takes_effect(fresh):
    # 1 nA into 1 nF / 20 ms from t = 10 ms: v = -65 + 20 (1 - exp(-(t - 10)/20)) after it,
    # exactly -65 up to t = 10 (pyNN.nest's timing); then the amplitude doubles for run 2
    sim.setup(timestep=0.1)
    p = sim.Population(1, sim.IF_curr_exp(cm=1.0, tau_m=20.0, v_rest=-65.0, v_thresh=0.0))
    dc = sim.DCSource(amplitude=1.0, start=10.0)
    dc.inject_into(p)
    p.record("v")
    sim.run(20.0)
    dc.amplitude = 2.0
    sim.run(20.0)
    v = p.get_data().segments[0].filter(name="v")[0]
    t = v.times.magnitude
    v = v.magnitude[:, 0]
    assert np.all(v[t <= 10.0 + 1e-9] == -65.0)
    first = (t > 10.0 + 1e-9) & (t <= 20.0 + 1e-9)
    expect = -65.0 + 20.0 * (1.0 - np.exp(-(t[first] - 10.0) / 20.0))
    assert np.max(np.abs(v[first] - expect)) < 1e-3
    # the second run relaxes towards -65 + 40 mV: above the single-current curve
    later = t > 25.0
    single = -65.0 + 20.0 * (1.0 - np.exp(-(t[later] - 10.0) / 20.0))
    assert np.all(v[later] > single + 1.0)
