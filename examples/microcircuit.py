#!/usr/bin/env python3
"""microcircuit.py: writes the Potjans & Diesmann (2014) cortical microcircuit as a spiked
POST /v1/sessions body (JSON), at any scale, with DC background (the benchmark convention)
or Poisson background (--poisson).

The full network (77,169 neurons, 298,880,968 synapses) is too big to check in literally;
examples/microcircuit_0.02.json is this script's output for --scale 0.02 (tests use it).

Specification (written from the model's description, not copied): NEST's example
pynest/examples/Potjans_2014 (network_params.py, network.py, helpers.py; read at
nest-simulator commits aa9e64d0 (network_params.py), 005fd398 (network.py) and 9354d431
(helpers.py)) and INM-6/microcircuit-PD14-model:
  - 8 populations of iaf_psc_exp (C_m 250 pF, tau_m 10 ms, tau_syn 0.5 ms, t_ref 2 ms,
    E_L = V_reset = -65 mV, V_th = -50 mV); the "optimized" initial V_m, normal per
    population (network_params.py, 'V0_mean'/'V0_sd' 'optimized');
  - synapse counts Q = round(ln(1-C) / ln(1 - 1/(Nx*Ny)) * N_scaling * K_scaling)
    (helpers.py num_synapses_from_conn_probs; network.py __derive_parameters), connected
    with fixed_total_number (multapses and autapses allowed);
  - weights: PSP 0.15 mV converted to a PSC (helpers.py postsynaptic_potential_to_current:
    87.81 pA), x2 for L4E -> L23E, x g = -4 from inhibitory sources, 10% relative sd, redrawn
    while of the wrong sign (network.py, nest.math.redraw with min=0 / max=0);
  - delays: normal 1.5 +- 0.75 ms from excitatory, 0.75 +- 0.375 ms from inhibitory sources,
    redrawn below --delay-min (default 0.05 ms, half a step: issue 13's reading of the
    reference; NEST's network.py at 005fd398 redraws below sim_resolution, 0.1 ms, which
    --delay-min 0.1 reproduces), rounded to the nearest 0.1 ms step;
  - background: DC I_e = bg_rate * K_ext * PSC_ext * tau_syn * 1e-3 (8 Hz, K_ext per
    population; helpers.py dc_input_compensating_poisson) or, with --poisson, K_ext
    independent 8 Hz Poisson sources per neuron of weight PSC_ext;
  - scaling (--scale S sets N_scaling = K_scaling = S): weights / sqrt(K_scaling), and a DC
    that restores the mean input the lost synapses carried at the full network's rates,
    0.001 * tau_syn * (1 - sqrt(K_scaling)) * sum_j PSC_ij K_ij nu_j (plus the external
    part with --poisson) (helpers.py adjust_weights_and_input_to_synapse_scaling), with the
    full-scale rates 0.903 ... 7.829 Hz below.

usage: microcircuit.py [--scale S] [--poisson] [--seed N] [--delay-min MS] [-o FILE]
"""
import argparse
import json
import math
import sys

POPS = ["L23E", "L23I", "L4E", "L4I", "L5E", "L5I", "L6E", "L6I"]
N_FULL = [20683, 5834, 21915, 5479, 4850, 1065, 14395, 2948]
# connection probabilities, [target][source]
CONN_PROBS = [
    [0.1009, 0.1689, 0.0437, 0.0818, 0.0323, 0.0, 0.0076, 0.0],
    [0.1346, 0.1371, 0.0316, 0.0515, 0.0755, 0.0, 0.0042, 0.0],
    [0.0077, 0.0059, 0.0497, 0.135, 0.0067, 0.0003, 0.0453, 0.0],
    [0.0691, 0.0029, 0.0794, 0.1597, 0.0033, 0.0, 0.1057, 0.0],
    [0.1004, 0.0622, 0.0505, 0.0057, 0.0831, 0.3726, 0.0204, 0.0],
    [0.0548, 0.0269, 0.0257, 0.0022, 0.06, 0.3158, 0.0086, 0.0],
    [0.0156, 0.0066, 0.0211, 0.0166, 0.0572, 0.0197, 0.0396, 0.2252],
    [0.0364, 0.001, 0.0034, 0.0005, 0.0277, 0.008, 0.0658, 0.1443],
]
K_EXT = [1600, 1500, 2100, 1900, 2000, 1900, 2900, 2100]
# full-scale mean rates (Hz) used by the DC compensation of scaled networks
FULL_RATES = [0.903, 2.965, 4.414, 5.876, 7.569, 8.633, 1.105, 7.829]
V0_MEAN = [-68.28, -63.16, -63.33, -63.45, -63.11, -61.66, -66.72, -61.43]
V0_SD = [5.36, 4.57, 4.74, 4.94, 4.94, 4.55, 5.46, 4.48]
C_M, TAU_M, TAU_SYN, T_REF = 250.0, 10.0, 0.5, 2.0
E_L, V_TH, V_RESET = -65.0, -50.0, -65.0
PSP_E, G, REL_SD_W = 0.15, -4.0, 0.1
BG_RATE = 8.0
DELAY_EXC, DELAY_INH, REL_SD_D = 1.5, 0.75, 0.5
DT = 0.1


def psc_over_psp(c_m, tau_m, tau_syn):
    """pA per mV of PSP peak for an exponential current into a leaky membrane."""
    sub = 1.0 / (tau_syn - tau_m)
    pre = tau_m * tau_syn / c_m * sub
    frac = (tau_m / tau_syn) ** sub
    return 1.0 / (pre * (frac ** tau_m - frac ** tau_syn))


def full_synapses():
    """Unrounded expected synapse counts of the full network, [target][source]."""
    return [[math.log(1.0 - CONN_PROBS[i][j]) / math.log(1.0 - 1.0 / (N_FULL[i] * N_FULL[j]))
             for j in range(8)] for i in range(8)]


def derive(scale, poisson):
    """Everything the network needs at this scale, as plain lists."""
    k = psc_over_psp(C_M, TAU_M, TAU_SYN)
    w_full = [[PSP_E * k * (G if j % 2 else 1.0) * (2.0 if (i, j) == (0, 2) else 1.0)
               for j in range(8)] for i in range(8)]
    psc_ext = PSP_E * k
    syn_full = full_synapses()
    sizes = [int(round(n * scale)) for n in N_FULL]
    counts = [[int(round(syn_full[i][j] * scale * scale)) for j in range(8)] for i in range(8)]
    k_ext = [int(round(x * scale)) for x in K_EXT]
    dc = [0.0 if poisson else BG_RATE * K_EXT[i] * psc_ext * TAU_SYN * 1e-3 for i in range(8)]
    w = [row[:] for row in w_full]
    w_ext = psc_ext
    if scale != 1.0:
        sq = math.sqrt(scale)
        w = [[x / sq for x in row] for row in w_full]
        w_ext = psc_ext / sq
        for i in range(8):
            rec = sum(w_full[i][j] * syn_full[i][j] / N_FULL[i] * FULL_RATES[j]
                      for j in range(8))
            dc[i] += 1e-3 * TAU_SYN * (1.0 - sq) * rec
            if poisson:
                dc[i] += 1e-3 * TAU_SYN * (1.0 - sq) * psc_ext * K_EXT[i] * BG_RATE
    return {"sizes": sizes, "counts": counts, "w": w, "w_ext": w_ext, "k_ext": k_ext,
            "dc": dc}


def network(scale=1.0, poisson=False, seed=1, delay_min=0.05):
    d = derive(scale, poisson)
    pops = []
    for i, name in enumerate(POPS):
        pops.append({
            "name": name, "model": "iaf_psc_exp", "size": d["sizes"][i],
            "params": {"C_m": C_M, "tau_m": TAU_M, "tau_syn_ex": TAU_SYN,
                       "tau_syn_in": TAU_SYN, "t_ref": T_REF, "E_L": E_L, "V_th": V_TH,
                       "V_reset": V_RESET, "I_e": round(d["dc"][i], 6)},
            "initial": {"V_m": {"normal": [V0_MEAN[i], V0_SD[i]]}}})
    projs = []
    for i in range(8):
        for j in range(8):
            n = d["counts"][i][j]
            if n <= 0:
                continue
            w = d["w"][i][j]
            mean_d = DELAY_INH if j % 2 else DELAY_EXC
            projs.append({
                "source": POPS[j], "target": POPS[i],
                "rule": {"kind": "fixed_total_number", "n": n},
                "weight": {"normal": [round(w, 6), round(abs(w) * REL_SD_W, 6)],
                           "sign": "negative" if w < 0 else "positive", "redraw": True},
                "delay_ms": {"normal": [mean_d, mean_d * REL_SD_D], "min": delay_min}})
    net = {"populations": pops, "projections": projs}
    if poisson:
        net["stimuli"] = [{"kind": "poisson", "target": POPS[i], "rate_hz": BG_RATE,
                           "n_sources": d["k_ext"][i], "weight": round(d["w_ext"], 6)}
                          for i in range(8)]
    body = {"name": "microcircuit", "seed": seed, "dt": DT, "network": net}
    total = sum(map(sum, d["counts"]))
    if total > 100_000_000:  # above the server's default --max-synapses (docs/microcircuit.md)
        body["limits"] = {"max_synapses": total, "max_bytes": 4 * 2 ** 30}
    return body


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scale", type=float, default=1.0,
                    help="N_scaling = K_scaling (default 1: the full network)")
    ap.add_argument("--poisson", action="store_true", help="Poisson background, not DC")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--delay-min", type=float, default=0.05,
                    help="redraw delays below this (ms); default 0.05")
    ap.add_argument("-o", "--output", default="-")
    a = ap.parse_args(argv)
    if not 0.0 < a.scale <= 1.0:
        ap.error("--scale must be in (0, 1]")
    body = network(a.scale, a.poisson, a.seed, a.delay_min)
    text = json.dumps(body, indent=1) + "\n"
    if a.output == "-":
        sys.stdout.write(text)
    else:
        with open(a.output, "w", encoding="utf-8") as f:
            f.write(text)
    d = derive(a.scale, a.poisson)
    print("neurons %d, synapses %d" % (sum(d["sizes"]), sum(map(sum, d["counts"]))),
          file=sys.stderr)


if __name__ == "__main__":
    main()
