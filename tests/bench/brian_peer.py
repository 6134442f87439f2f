#!/usr/bin/python3
"""brian_peer.py: Brian2 peers of spiked's benchmarks, built with cpp_standalone.

Subcommands:
  coba    the Brette et al. (2007) COBA network (4000 neurons, p = 0.02, 1 s of model time),
          written to follow spiked's coba_lif update (see COBA_EQS below);
  ff_lif  N uncoupled LIF neurons, each with a constant random drive (bench_ff_lif's peer).

Each subcommand generates and compiles one standalone project in a temporary directory
(Brian's default flags: -O3 -ffast-math -march=native), runs the binary --reps times and
times the simulation loop alone (Brian's Network::run, results/last_run_info.txt), so
compilation, code generation and synapse creation are not counted. With --interleave
NAME=CMD (repeatable), the shell command CMD runs before each Brian sample and the last
line of its stdout (one JSON object) is kept under interleaved[NAME]: peer and spiked are
then sampled alternately, under the same machine load.

Precision: float32 state variables (prefs.core.default_float_dtype = float32) unless
--float64; Brian keeps t, dt and lastspike in float64 either way.

Writes one JSON object to --json (or stdout). Needs /usr/bin/python3 with python3-brian
(Debian) and g++.
"""
import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import warnings

warnings.filterwarnings("ignore")  # numpy/pythran FutureWarnings from Debian's stack


def brian_setup(args, workdir):
    """Imports Brian, selects the standalone device and the precision; returns the module."""
    import numpy as np
    import brian2 as b2

    b2.set_device("cpp_standalone", directory=workdir, build_on_run=False)
    b2.prefs.devices.cpp_standalone.openmp_threads = 0 if args.threads <= 1 else args.threads
    b2.prefs.core.default_float_dtype = np.float64 if args.float64 else np.float32
    b2.prefs.logging.console_log_level = "WARNING"
    return b2


# COBA, Brette et al. (2007), Brian's script for the paper, in units of the leak conductance
# (gl = 10 nS; weights 0.6 and 6.7). Written to follow spiked's coba_lif step exactly in real
# arithmetic:
#   spiked:  g = g_old + x;  g' = g*(1 - dt/tau);  v' = v + dt/taum*(El-v + g_e'(Ee-v) + g_i'(Ei-v))
#   Brian:   the synaptic jump (on_pre, delay 0) lands in ge right after the spiking step, so
#            ge at the start of the next step equals spiked's g; Euler then gives
#            ge' = ge*(1 - dt/taue), and v's equation uses ge*ke = spiked's g'.
# spiked's delay of 1 step is Brian's delay 0: both first move v in the step after the spike.
COBA_EQS = """
dv/dt  = ((El - v) + ge*ke*(Ee - v) + gi*ki*(Ei - v)) / taum : volt (unless refractory)
dge/dt = -ge / taue : 1
dgi/dt = -gi / taui : 1
"""


def build_coba(args, workdir):
    b2 = brian_setup(args, workdir)
    from brian2 import ms, mV, second

    dt = 0.1 * ms
    b2.defaultclock.dt = dt
    b2.seed(args.seed)
    ns = {
        "taum": 20 * ms, "taue": 5 * ms, "taui": 10 * ms,
        "El": -60 * mV, "Ee": 0 * mV, "Ei": -80 * mV,
        "ke": float(1 - dt / (5 * ms)), "ki": float(1 - dt / (10 * ms)),
        "we": 0.6, "wi": 6.7,
    }
    # refractory=5 ms: Brian's not_refractory is timestep(t - lastspike) >= 50, so v is held
    # for the 49 steps after the spiking step (spiked: refractory_steps = 49).
    P = b2.NeuronGroup(4000, COBA_EQS, threshold="v > -50*mV", reset="v = -60*mV",
                       refractory=5 * ms, method="euler", namespace=ns)
    Pe, Pi = P[:3200], P[3200:]
    Ce = b2.Synapses(Pe, P, on_pre="ge += we", namespace=ns)
    Ci = b2.Synapses(Pi, P, on_pre="gi += wi", namespace=ns)
    Ce.connect(p=0.02)
    Ci.connect(p=0.02)
    P.v = "-60*mV + rand() * 10*mV"
    P.ge = "randn() * 1.5 + 4"
    P.gi = "randn() * 12 + 20"
    mon = b2.SpikeMonitor(P, record=False)  # spike counts only
    b2.run(args.duration * second)
    return b2, {"mon": mon, "Ce": Ce, "Ci": Ci}


def coba_sample(objs, args, run_s):
    count = objs["mon"].count[:]
    se, si = int(count[:3200].sum()), int(count[3200:].sum())
    n_e, n_i = len(objs["Ce"]), len(objs["Ci"])
    events = se * n_e / 3200.0 + si * n_i / 800.0  # spikes x mean out-degree
    return {
        "wall_s": run_s,
        "wall_per_model_s": run_s / args.duration,
        "spikes_exc": se, "spikes_inh": si,
        "rate_exc_hz": se / 3200.0 / args.duration,
        "rate_inh_hz": si / 800.0 / args.duration,
        "synapses": n_e + n_i,
        "events": events,
        "events_per_s": events / run_s,
    }


# ff_lif: spiked's lif (Norse LIF) with a constant drive per neuron, i starting at 0:
#   i_j = i + drive; v' = v + dt*tau_mem_inv*((v_leak - v) + i_j); i' = i_j*(1 - dt*tau_syn_inv)
# The Euler form below is the same per-neuron work, not the same trajectory: isyn (Brian
# reserves `i` for the index) decays from 0 and the drive enters v's equation directly, as
# drive = amp / (dt*tau_syn_inv) = 5*amp, the level spiked's i settles at, so the same third
# of the neurons fire at similar rates. Per neuron it reads v, isyn, drive, writes v, isyn,
# then thresholds (its own pass).
FF_EQS = """
dv/dt = tau_mem_inv * ((v_leak - v) + isyn + drive) : 1
disyn/dt = -tau_syn_inv * isyn : 1
drive : 1 (constant)
"""


def build_ff_lif(args, workdir):
    b2 = brian_setup(args, workdir)
    from brian2 import ms, second

    b2.defaultclock.dt = 1 * ms
    b2.seed(args.seed)
    ns = {"tau_mem_inv": 100 / second, "tau_syn_inv": 200 / second, "v_leak": 0.0}
    G = b2.NeuronGroup(args.n, FF_EQS, threshold="v > 1", reset="v = 0", method="euler",
                       namespace=ns)
    G.drive = "rand() * %r" % (5.0 * args.amp_max)
    mon = b2.SpikeMonitor(G, record=False)
    b2.run(args.steps * b2.defaultclock.dt)
    return b2, {"mon": mon}


def ff_sample(objs, args, run_s):
    spikes = int(objs["mon"].count[:].sum())
    updates = float(args.n) * args.steps
    return {"wall_s": run_s, "updates_per_s": updates / run_s, "spikes": spikes,
            "rate_hz": spikes / args.n / (args.steps * 1e-3)}


def run_interleaved(specs):
    out = {}
    for name, cmd in specs:
        res = subprocess.run(cmd, shell=True, check=True, stdout=subprocess.PIPE, text=True)
        lines = [ln for ln in res.stdout.splitlines() if ln.strip()]
        out[name] = json.loads(lines[-1])
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("bench", choices=["coba", "ff_lif"])
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1, help="OpenMP threads (1 = none)")
    ap.add_argument("--float64", action="store_true")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--duration", type=float, default=1.0, help="coba: model seconds")
    ap.add_argument("--n", type=int, default=1000000, help="ff_lif: neurons")
    ap.add_argument("--steps", type=int, default=200, help="ff_lif: steps of 1 ms")
    ap.add_argument("--amp-max", type=float, default=0.3, help="ff_lif: drive in [0, max)")
    ap.add_argument("--interleave", action="append", default=[], metavar="NAME=CMD")
    ap.add_argument("--json", default="-")
    ap.add_argument("--keep", action="store_true", help="keep the project directory")
    args = ap.parse_args()
    specs = [tuple(s.split("=", 1)) for s in args.interleave]

    workdir = tempfile.mkdtemp(prefix="spiked-brian-%s-" % args.bench)
    try:
        t0 = time.perf_counter()
        build = build_coba if args.bench == "coba" else build_ff_lif
        sample = coba_sample if args.bench == "coba" else ff_sample
        b2, objs = build(args, workdir)
        dev = b2.get_device()
        dev.build(directory=workdir, compile=True, run=False, with_output=False)
        compile_s = time.perf_counter() - t0
        samples, inter = [], {name: [] for name, _ in specs}
        for _ in range(args.reps):
            for name, got in run_interleaved(specs).items():
                inter[name].append(got)
            dev.run(workdir, with_output=False, run_args=[])
            samples.append(sample(objs, args, dev._last_run_time))
        out = {
            "peer": "brian2 %s cpp_standalone" % b2.__version__,
            "bench": args.bench,
            "threads": args.threads,
            "float": "float64" if args.float64 else "float32",
            "compile_flags": " ".join(b2.prefs.codegen.cpp.extra_compile_args_gcc),
            "codegen_and_compile_s": compile_s,
            "samples": samples,
            "interleaved": inter,
        }
        if args.bench == "ff_lif":
            out.update({"n": args.n, "steps": args.steps})
        else:
            out.update({"duration_s": args.duration, "dt_ms": 0.1})
        text = json.dumps(out, indent=1)
        if args.json == "-":
            print(text)
        else:
            with open(args.json, "w") as f:
                f.write(text + "\n")
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
