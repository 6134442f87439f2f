# gen_ode.py OUT_DIR: variants for the ODE models (aeif_cond_exp with Delta_T = 0, with t_ref > 0,
# at dt 0.25; iaf_cond_exp at dt 1), expected values from scipy solve_ivp DOP853 (rtol 1e-10,
# atol 1e-12) with the threshold located as an event, per the golden-nest README: an
# independent transcription, not NEST. Replayed by conformance_nest_variants.
import json, math, copy
import numpy as np
from scipy.integrate import solve_ivp
import os, sys
src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "golden-nest") + "/"
OUT = sys.argv[1] if len(sys.argv) > 1 else "."
def steps(t_ref, h):
    return math.ceil(math.floor(t_ref * 1000 + 0.5) / math.floor(h * 1000 + 0.5))
def run_aeif(d):
    P = d["params"]; h = d["dt"]; N = d["n_neurons"]; T = d["n_steps"]; I = d["inputs"]
    S = {k: np.array(v, float) for k, v in d["initial_state"].items()}
    RC = steps(P["t_ref"], h); peak = P["V_peak"] if P["Delta_T"] > 0 else P["V_th"]
    out = {k: [] for k in d["expected"]}
    V, ge, gi, w, r, Is = S["V_m"], S["g_ex"], S["g_in"], S["w"], S["refractory_steps_left"], S["I_stim"]
    for t in range(T):
        spikes = np.zeros(N, int)
        for j in range(N):
            y = np.array([V[j], ge[j], gi[j], w[j]]); rr = r[j]; tt = 0.0
            def f(_, y):
                ref = rr > 0
                v = P["V_reset"] if ref else min(y[0], P["V_peak"])
                ex = P["g_L"] * P["Delta_T"] * math.exp((v - P["V_th"]) / P["Delta_T"]) if P["Delta_T"] > 0 else 0.0
                dv = 0.0 if ref else (-P["g_L"] * (v - P["E_L"]) + ex - y[1] * (v - P["E_ex"]) - y[2] * (v - P["E_in"]) - y[3] + P["I_e"] + Is[j]) / P["C_m"]
                return [dv, -y[1] / P["tau_syn_ex"], -y[2] / P["tau_syn_in"], (P["a"] * (v - P["E_L"]) - y[3]) / P["tau_w"]]
            while tt < h - 1e-15:
                ev = lambda _, y: (y[0] - peak) if rr == 0 else -1.0
                ev.terminal = True; ev.direction = 1
                sol = solve_ivp(f, (tt, h), y, method="DOP853", rtol=1e-10, atol=1e-12, events=ev)
                y = sol.y[:, -1].copy()
                if sol.status == 1:
                    tt = sol.t_events[0][0]; y = sol.y_events[0][0].copy()
                    y[0] = P["V_reset"]; y[3] += P["b"]; rr = RC + 1 if RC > 0 else 0; spikes[j] += 1
                else:
                    tt = h
            if rr > 0: rr -= 1
            V[j], ge[j], gi[j], w[j], r[j] = y[0], y[1] + I["ex"][t][j], y[2] - I["in"][t][j], y[3], rr
        Is = np.array(I["current"][t], float)
        for k, v in (("V_m", V), ("g_ex", ge), ("g_in", gi), ("w", w), ("refractory_steps_left", r), ("spikes", np.minimum(spikes, 1))):
            out[k].append(np.array(v).tolist())
    d["expected"] = out; d["derived"] = {"refractory_counts": RC}
    return d
def run_cond_exp(d):
    P = d["params"]; h = d["dt"]; N = d["n_neurons"]; T = d["n_steps"]; I = d["inputs"]
    S = {k: np.array(v, float) for k, v in d["initial_state"].items()}
    RC = steps(P["t_ref"], h); out = {k: [] for k in d["expected"]}
    V, ge, gi, r, Is = S["V_m"], S["g_ex"], S["g_in"], S["refractory_steps_left"], S["I_stim"]
    for t in range(T):
        sp = np.zeros(N, int)
        for j in range(N):
            rr = r[j]
            def f(_, y):
                v = P["V_reset"] if rr > 0 else min(y[0], P["V_th"])
                dv = 0.0 if rr > 0 else (-P["g_L"] * (v - P["E_L"]) - y[1] * (v - P["E_ex"]) - y[2] * (v - P["E_in"]) + P["I_e"] + Is[j]) / P["C_m"]
                return [dv, -y[1] / P["tau_syn_ex"], -y[2] / P["tau_syn_in"]]
            y = solve_ivp(f, (0, h), [V[j], ge[j], gi[j]], method="DOP853", rtol=1e-10, atol=1e-12).y[:, -1]
            v, g1, g2 = y[0], y[1] + I["ex"][t][j], y[2] - I["in"][t][j]
            if rr > 0: rr -= 1; v = P["V_reset"]
            elif v >= P["V_th"]: sp[j] = 1; rr = RC; v = P["V_reset"]
            V[j], ge[j], gi[j], r[j] = v, g1, g2, rr
        Is = np.array(I["current"][t], float)
        for k, v in (("V_m", V), ("g_ex", ge), ("g_in", gi), ("refractory_steps_left", r), ("spikes", sp)):
            out[k].append(np.array(v).tolist())
    d["expected"] = out; d["derived"] = {"refractory_counts": RC}
    return d
def variant(fn, name, runner, dt=None, params=None, T=None, scale=1.0):
    d = copy.deepcopy(json.load(open(src + fn)))
    if dt: d["dt"] = dt
    if params: d["params"].update(params)
    if T:
        d["n_steps"] = T
        for k in d["inputs"]: d["inputs"][k] = d["inputs"][k][:T]
    for k in ("ex", "in"):
        d["inputs"][k] = (np.array(d["inputs"][k]) * scale).tolist()
    if "refractory_steps_left" in d["initial_state"] and d["params"].get("t_ref") == 0:
        d["initial_state"]["refractory_steps_left"] = [0] * d["n_neurons"]
    d = runner(d); json.dump(d, open(os.path.join(OUT, name + ".json"), "w"))
    print(name, int(np.sum(d["expected"]["spikes"])))
variant("aeif_cond_exp.json", "aeif_deltaT0", run_aeif, params={"Delta_T": 0.0}, T=200)
variant("aeif_cond_exp.json", "aeif_tref2", run_aeif, params={"t_ref": 2.0}, T=200)
variant("aeif_cond_exp_random_init.json", "aeif_dt025", run_aeif, dt=0.25, T=150, scale=0.7)
variant("iaf_cond_exp_random_init.json", "cond_exp_dt1", run_cond_exp, dt=1.0, T=150, scale=0.5)
