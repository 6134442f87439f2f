# gen_network.py OUT_DIR: network (plasticity) vectors beyond the shipped ones, in the format of
# tests/conformance/golden-nest/README.md ("kind": "network"): stdp_synapse with delays up to 20
# steps, stdp_synapse with weights clipped at 0 (and at Wmax), multiplicative STDP at dt 0.25,
# and an inhibitory facilitating tsodyks_synapse (tau_psc = the target's tau_syn_in). Expected
# values come from this independent float64 transcription of that README (the post neuron
# iaf_psc_exp, section "Step semantics"; the synapses, sections "stdp_synapse, transcribed" and
# "tsodyks_synapse, transcribed"), not from NEST and not from spiked's code. Each vector is
# redrawn until every threshold decision is at least 1e-3 mV from the threshold.
import json, math, os, sys
import numpy as np

OUT = sys.argv[1] if len(sys.argv) > 1 else "."
EPS = 1e-6


def ref_counts(t_ref, h):
    tics = math.floor(t_ref * 1000 + 0.5)
    tps = math.floor(h * 1000 + 0.5)
    return math.ceil(tics / tps)


def p21(ts, tm, c, h):
    beta = ts * tm / (tm - ts)
    v = beta / c * math.exp(-h / ts) * math.expm1(h * (1 / ts - 1 / tm))
    return v if (math.isfinite(v) and v > 2.2e-308) else h / c * math.exp(-h / tm)


class Stdp:
    def __init__(self, p, tau_minus):
        self.p = p
        self.tau_minus = tau_minus

    def fac(self, w, k):
        p = self.p
        nw = w / p["Wmax"] + p["lambda"] * (1 - w / p["Wmax"]) ** p["mu_plus"] * k
        return nw * p["Wmax"] if nw < 1 else p["Wmax"]

    def dep(self, w, k):
        p = self.p
        nw = w / p["Wmax"] - p["alpha"] * p["lambda"] * (w / p["Wmax"]) ** p["mu_minus"] * k
        return nw * p["Wmax"] if nw > 0 else 0.0

    def send(self, syn, t_pre, d, hist):
        # hist: list of (t_post, Kminus) of the target neuron, in time order
        w = syn["w"]
        for t_post, _ in hist:
            if syn["t_last"] - d + EPS <= t_post < t_pre - d + EPS:
                w = self.fac(w, syn["Kplus"] * math.exp((syn["t_last"] - (t_post + d)) / self.p["tau_plus"]))
        k = 0.0
        for t_post, km in reversed(hist):
            if (t_pre - d) - t_post > EPS:
                k = km * math.exp((t_post - (t_pre - d)) / self.tau_minus)
                break
        w = self.dep(w, k)
        syn["w"] = w
        syn["Kplus"] = syn["Kplus"] * math.exp((syn["t_last"] - t_pre) / self.p["tau_plus"]) + 1
        syn["t_last"] = t_pre
        return w


class Tsodyks:
    def __init__(self, p):
        self.p = p

    def send(self, syn, t_pre, d, hist):
        p = self.p
        h = t_pre - syn["t_last"]
        Puu = 0.0 if p["tau_fac"] == 0 else math.exp(-h / p["tau_fac"])
        Pyy = math.exp(-h / p["tau_psc"])
        Pzz = math.expm1(-h / p["tau_rec"])
        Pxy = (Pzz * p["tau_rec"] - (Pyy - 1) * p["tau_psc"]) / (p["tau_psc"] - p["tau_rec"])
        z = 1 - syn["x"] - syn["y"]
        syn["u"] *= Puu
        syn["x"] += Pxy * syn["y"] - Pzz * z
        syn["y"] *= Pyy
        syn["u"] += p["U"] * (1 - syn["u"])
        dy = syn["u"] * syn["x"]
        syn["x"] -= dy
        syn["y"] += dy
        syn["t_last"] = t_pre
        return dy * syn["w"]


def simulate(net):
    h = net["dt"]
    T = net["n_steps"]
    tics = math.floor(h * 1000 + 0.5)
    stamp = lambda s: 0.001 * ((s + 1) * tics)
    pops = {p["name"]: p for p in net["populations"]}
    post = pops["post"]
    P = post["params"]
    N = len(post["initial_state"]["V_m"])
    E_L = P["E_L"]
    V = np.array(post["initial_state"]["V_m"], float) - E_L
    Ie = np.array(post["initial_state"]["I_syn_ex"], float)
    Ii = np.array(post["initial_state"]["I_syn_in"], float)
    r = np.array(post["initial_state"]["refractory_steps_left"], int)
    RC = ref_counts(P["t_ref"], h)
    P11e, P11i = math.exp(-h / P["tau_syn_ex"]), math.exp(-h / P["tau_syn_in"])
    P22 = math.exp(-h / P["tau_m"])
    P20 = P["tau_m"] / P["C_m"] * (1 - P22)
    P21e = p21(P["tau_syn_ex"], P["tau_m"], P["C_m"], h)
    P21i = p21(P["tau_syn_in"], P["tau_m"], P["C_m"], h)
    th, vr = P["V_th"] - E_L, P["V_reset"] - E_L
    maxd = max(c[3] for pr in net["projections"] for c in pr["connections"])
    ex = np.zeros((T + maxd + 1, N))
    inh = np.zeros((T + maxd + 1, N))
    hist = [[] for _ in range(N)]  # (t_post, Kminus)
    Kminus, last = [0.0] * N, [-1.0] * N
    src_at = {}
    for name, p in pops.items():
        if p["model"] == "spike_source":
            for i, steps in enumerate(p["spike_steps"]):
                for s in steps:
                    src_at.setdefault((name, s), []).append(i)
    rules, syns = [], []
    for pr in net["projections"]:
        m = pr["synapse"]["model"]
        rules.append(Stdp(pr["synapse"]["params"], P["tau_minus"]) if m == "stdp_synapse"
                     else Tsodyks(pr["synapse"]["params"]) if m == "tsodyks_synapse" else None)
        syns.append([{"w": c[2], "Kplus": 0.0, "t_last": 0.0, "x": 1.0, "y": 0.0, "u": 0.0}
                     for c in pr["connections"]])
    exp = {"spikes": {n: [] for n in pops}, "weights": {}, "transmitted": {},
           "state": {"post": {"V_m": [], "I_syn_ex": [], "I_syn_in": []}}}
    for k, rule in enumerate(rules):
        if rule is not None:
            exp["transmitted"][str(k)] = []
        if isinstance(rule, Stdp):
            exp["weights"][str(k)] = {"steps": list(net["record_weight_steps"]), "values": []}
    margin = math.inf
    for t in range(T):
        free = r == 0
        V = np.where(free, V * P22 + Ie * P21e + Ii * P21i + P["I_e"] * P20, V)
        r = np.where(free, r, r - 1)
        Ie = Ie * P11e
        Ii = Ii * P11i
        Ie = Ie + ex[t]
        Ii = Ii + inh[t]
        margin = min(margin, float(np.min(np.abs(V - th))))
        spk = V >= th
        r = np.where(spk, RC, r)
        V = np.where(spk, vr, V)
        for j in np.nonzero(spk)[0]:
            tp = stamp(t)
            Kminus[j] = Kminus[j] * math.exp((last[j] - tp) / P["tau_minus"]) + 1
            last[j] = tp
            hist[j].append((tp, Kminus[j]))
            exp["spikes"]["post"].append([t, int(j)])
        exp["state"]["post"]["V_m"].append([float(v) for v in V + E_L])
        exp["state"]["post"]["I_syn_ex"].append([float(v) for v in Ie])
        exp["state"]["post"]["I_syn_in"].append([float(v) for v in Ii])
        for name, p in pops.items():
            if p["model"] != "spike_source":
                continue
            fired = sorted(src_at.get((name, t), []))
            for i in fired:
                exp["spikes"][name].append([t, i])
            for k, pr in enumerate(net["projections"]):
                if pr["source"] != name:
                    continue
                for ci, c in enumerate(pr["connections"]):
                    if c[0] not in fired:
                        continue
                    D, j = c[3], c[1]
                    if rules[k] is None:
                        w = c[2]
                    else:
                        w = rules[k].send(syns[k][ci], stamp(t), D * (tics / 1000), hist[j])
                        exp["transmitted"][str(k)].append([t, ci, w])
                    if w > 0:
                        ex[t + D][j] += w
                    else:
                        inh[t + D][j] += w
        if t in net["record_weight_steps"]:
            for k, rule in enumerate(rules):
                if isinstance(rule, Stdp):
                    exp["weights"][str(k)]["values"].append([s["w"] for s in syns[k]])
    for k in exp["transmitted"]:
        exp["transmitted"][k].sort(key=lambda e: (e[0], e[1]))
    return exp, margin


def poisson_steps(rng, n, T, rate_per_step):
    return [sorted(int(s) for s in np.nonzero(rng.random(T) < rate_per_step)[0]) for _ in range(n)]


def post_pop(rng, n, extra):
    P = {"C_m": 250.0, "E_L": -70.0, "I_e": 0.0, "V_reset": -70.0, "V_th": -55.0, "t_ref": 2.0,
         "tau_m": 10.0, "tau_minus": 30.0, "tau_syn_ex": 2.0, "tau_syn_in": 2.0}
    P.update(extra)
    return {"name": "post", "model": "iaf_psc_exp", "params": P,
            "initial_state": {"V_m": [float(round(v, 3)) for v in rng.uniform(-70, -60, n)],
                              "I_syn_ex": [0.0] * n, "I_syn_in": [0.0] * n,
                              "refractory_steps_left": [0] * n}}


def stdp_net(name, seed, dt, T, syn, dmin, dmax, w_lo, w_hi, post_extra=None, n_pre=6, n_post=3):
    for redraw in range(200):
        rng = np.random.default_rng(seed + redraw)
        pre = poisson_steps(rng, n_pre, T, 20e-3 * dt)
        teacher = poisson_steps(rng, n_post, T, 12e-3 * dt)
        conns = [[i, j, float(round(rng.uniform(w_lo, w_hi), 3)), int(rng.integers(dmin, dmax + 1))]
                 for i in range(n_pre) for j in range(n_post)]
        net = {"kind": "network", "name": name, "note": "spiked variant (gen_network.py)",
               "reference": {"library": "README transcription (numpy float64)",
                             "code": "tests/conformance/variants/gen_network.py"},
               "dtype": "float64", "dt": dt, "n_steps": T, "seed": seed, "redraws": redraw,
               "populations": [{"name": "pre", "model": "spike_source", "spike_steps": pre},
                               {"name": "teacher", "model": "spike_source", "spike_steps": teacher},
                               post_pop(rng, n_post, post_extra or {})],
               "projections": [
                   {"source": "pre", "target": "post", "receptor": "ex",
                    "synapse": {"model": "stdp_synapse", "params": syn}, "connections": conns},
                   {"source": "teacher", "target": "post", "receptor": "ex",
                    "synapse": {"model": "static_synapse", "params": {}},
                    "connections": [[j, j, 3200.0, int(rng.integers(1, 3))] for j in range(n_post)]}],
               "record_weight_steps": [T // 4 - 1, T // 2 - 1, 3 * T // 4 - 1, T - 1]}
        exp, margin = simulate(net)
        if margin >= 1e-3 and len(exp["spikes"]["post"]) > 5:
            net["expected"] = exp
            net["post_spike_count"] = len(exp["spikes"]["post"])
            net["min_threshold_margin"] = margin
            net["tolerance"] = {"state_rel": 1e-4, "weight_rel": 1e-4}
            return net
    raise SystemExit(name + ": no draw with a margin >= 1e-3 mV")


def tsodyks_inhibitory(name, seed):
    T, dt = 3000, 0.1
    for redraw in range(200):
        rng = np.random.default_rng(seed + redraw)
        pre = poisson_steps(rng, 4, T, 25e-3 * dt)
        conns = [[i, j, float(round(-rng.uniform(300, 900), 3)), int(rng.integers(1, 21))]
                 for i in range(4) for j in range(3)]
        post = post_pop(rng, 3, {"I_e": 420.0, "tau_syn_in": 5.0})
        syn = {"U": 0.1, "tau_rec": 100.0, "tau_fac": 1000.0, "tau_psc": 5.0}
        net = {"kind": "network", "name": name, "note": "inhibitory facilitating tsodyks_synapse "
               "(tau_psc = the target's tau_syn_in), delays 1-20 steps",
               "reference": {"library": "README transcription (numpy float64)",
                             "code": "tests/conformance/variants/gen_network.py"},
               "dtype": "float64", "dt": dt, "n_steps": T, "seed": seed, "redraws": redraw,
               "populations": [{"name": "pre", "model": "spike_source", "spike_steps": pre}, post],
               "projections": [{"source": "pre", "target": "post", "receptor": "in",
                                "synapse": {"model": "tsodyks_synapse", "params": syn},
                                "connections": conns}],
               "record_weight_steps": []}
        exp, margin = simulate(net)
        if margin >= 1e-3 and len(exp["spikes"]["post"]) > 5:
            net["expected"] = exp
            net["post_spike_count"] = len(exp["spikes"]["post"])
            net["min_threshold_margin"] = margin
            net["tolerance"] = {"state_rel": 1e-4, "weight_rel": 1e-4}
            return net
    raise SystemExit(name + ": no draw with a margin >= 1e-3 mV")


def save(net):
    json.dump(net, open(os.path.join(OUT, net["name"] + ".json"), "w"))


add = {"Wmax": 150.0, "alpha": 1.1, "lambda": 0.05, "mu_minus": 0.0, "mu_plus": 0.0, "tau_plus": 20.0}
save(stdp_net("stdp_delays_to_20", 8101, 0.1, 3000, add, 10, 20, 40.0, 140.0))
clip = {"Wmax": 60.0, "alpha": 2.5, "lambda": 0.2, "mu_minus": 0.0, "mu_plus": 0.0, "tau_plus": 15.0}
net = stdp_net("stdp_clipped_at_0", 8201, 0.1, 3000, clip, 1, 20, 2.0, 59.0, n_pre=8)
w_end = net["expected"]["weights"]["0"]["values"][-1]
assert sum(1 for w in w_end if w == 0.0) >= 2, "no weight clipped at 0"
save(net)
mult = {"Wmax": 200.0, "alpha": 1.0, "lambda": 0.1, "mu_minus": 1.0, "mu_plus": 1.0, "tau_plus": 15.0}
save(stdp_net("stdp_multiplicative_dt025", 8301, 0.25, 1200, mult, 2, 12, 40.0, 180.0,
              {"tau_minus": 25.0}))
save(tsodyks_inhibitory("tsodyks_inhibitory_facilitating", 8401))
