# gen_exact.py OUT_DIR: variants of the shipped NEST vectors (other dt, the singular propagators,
# t_ref = 2.05, V_min) for iaf_psc_exp, iaf_psc_alpha and izhikevich, with expected values from
# an independent numpy transcription of tests/conformance/golden-nest/README.md (not NEST, and
# not spiked's code). tests/conformance/CMakeLists.txt replays them (conformance_nest_variants).
import copy, json, math, os, sys
import numpy as np
src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "golden-nest") + "/"
OUT = sys.argv[1] if len(sys.argv) > 1 else "."
def steps(t_ref, h):
    tics = math.floor(t_ref * 1000 + 0.5); tps = math.floor(h * 1000 + 0.5)
    return math.ceil(tics / tps)
def p21(ts, tm, c, h):
    beta = ts * tm / (tm - ts) if tm != ts else math.inf
    inv_beta = (tm - ts) / (ts * tm)
    v = beta / c * math.exp(-h / ts) * math.expm1(h * inv_beta) if tm != ts else math.nan
    return v if (math.isfinite(v) and v > 0 and v > 2.2e-308) else h / c * math.exp(-h / tm)
def p31(ts, tm, c, h):
    hmin = 1e-7 * tm * tm / abs(tm - ts) if tm != ts else math.inf
    if h > hmin:
        beta = ts * tm / (tm - ts); inv_beta = (tm - ts) / (ts * tm)
        return beta / c * math.exp(-h / ts) * (beta * math.expm1(h * inv_beta) - h)
    return 0.5 * h * h / c * math.exp(-h / tm)
def run(d):
    m = d["model"]; P = d["params"]; h = d["dt"]; T = d["n_steps"]
    I = d["inputs"]; S = {k: np.array(v, float) for k, v in d["initial_state"].items()}
    E_L = P.get("E_L", 0.0)
    out = {k: [] for k in d["expected"]}
    if m in ("iaf_psc_exp", "iaf_psc_alpha"):
        RC = steps(P["t_ref"], h); y3 = S["V_m"] - E_L; r = S["refractory_steps_left"].copy(); i0 = S["I_stim"].copy()
        th = P["V_th"] - E_L; vr = P["V_reset"] - E_L
        if m == "iaf_psc_exp":
            P11e = math.exp(-h / P["tau_syn_ex"]); P11i = math.exp(-h / P["tau_syn_in"]); P22 = math.exp(-h / P["tau_m"])
            P20 = P["tau_m"] / P["C_m"] * (1 - P22); P21e = p21(P["tau_syn_ex"], P["tau_m"], P["C_m"], h); P21i = p21(P["tau_syn_in"], P["tau_m"], P["C_m"], h)
            Ie = S["I_syn_ex"].copy(); Ii = S["I_syn_in"].copy()
            for t in range(T):
                free = r == 0
                y3 = np.where(free, y3 * P22 + Ie * P21e + Ii * P21i + (P["I_e"] + i0) * P20, y3)
                r = np.where(free, r, r - 1)
                Ie = Ie * P11e + np.array(I["ex"][t]); Ii = Ii * P11i + np.array(I["in"][t])
                sp = y3 >= th; r = np.where(sp, RC, r); y3 = np.where(sp, vr, y3)
                i0 = np.array(I["current"][t], float)
                for k, v in (("V_m", y3 + E_L), ("I_syn_ex", Ie), ("I_syn_in", Ii), ("refractory_steps_left", r), ("spikes", sp.astype(int))):
                    out[k].append(v.tolist())
        else:
            P11e = math.exp(-h / P["tau_syn_ex"]); P11i = math.exp(-h / P["tau_syn_in"]); em = math.expm1(-h / P["tau_m"])
            P30 = -P["tau_m"] / P["C_m"] * em
            P31e = p31(P["tau_syn_ex"], P["tau_m"], P["C_m"], h); P32e = p21(P["tau_syn_ex"], P["tau_m"], P["C_m"], h)
            P31i = p31(P["tau_syn_in"], P["tau_m"], P["C_m"], h); P32i = p21(P["tau_syn_in"], P["tau_m"], P["C_m"], h)
            Ie = S["I_syn_ex"].copy(); dIe = S["dI_syn_ex"].copy(); Ii = S["I_syn_in"].copy(); dIi = S["dI_syn_in"].copy()
            vmin = P["V_min"]; vmin = -math.inf if vmin == "-inf" else vmin
            for t in range(T):
                free = r == 0
                yn = P30 * (i0 + P["I_e"]) + P31e * dIe + P32e * Ie + P31i * dIi + P32i * Ii + em * y3 + y3
                yn = np.maximum(yn, vmin - E_L)
                y3 = np.where(free, yn, y3); r = np.where(free, r, r - 1)
                Ie = h * P11e * dIe + P11e * Ie; dIe = dIe * P11e + math.e / P["tau_syn_ex"] * np.array(I["ex"][t])
                Ii = h * P11i * dIi + P11i * Ii; dIi = dIi * P11i + math.e / P["tau_syn_in"] * np.array(I["in"][t])
                sp = y3 >= th; r = np.where(sp, RC, r); y3 = np.where(sp, vr, y3)
                i0 = np.array(I["current"][t], float)
                for k, v in (("V_m", y3 + E_L), ("I_syn_ex", Ie), ("dI_syn_ex", dIe), ("I_syn_in", Ii), ("dI_syn_in", dIi), ("refractory_steps_left", r), ("spikes", sp.astype(int))):
                    out[k].append(v.tolist())
        d["derived"] = {"refractory_counts": RC}
    elif m == "izhikevich":
        V = S["V_m"].copy(); U = S["U_m"].copy(); Is = S["I_stim"].copy(); a, b, c, dd = P["a"], P["b"], P["c"], P["d"]
        for t in range(T):
            w = np.array(I["ex"][t]) + np.array(I["in"][t])
            if P["consistent_integration"]:
                vo, uo = V.copy(), U.copy()
                V = V + h * (0.04 * vo * vo + 5 * vo + 140 - uo + Is + P["I_e"]) + w
                U = U + h * a * (b * vo - uo)
            else:
                V = V + h / 2 * (0.04 * V * V + 5 * V + 140 - U + Is + P["I_e"] + w)
                V = V + h / 2 * (0.04 * V * V + 5 * V + 140 - U + Is + P["I_e"] + w)
                U = U + h * a * (b * V - U)
            sp = V >= P["V_th"]; V = np.where(sp, c, V); U = np.where(sp, U + dd, U)
            Is = np.array(I["current"][t], float)
            for k, v in (("V_m", V), ("U_m", U), ("spikes", sp.astype(int))):
                out[k].append(v.tolist())
    d["expected"] = out
    return d
rng = np.random.default_rng(7)
def variant(fn, name, dt=None, params=None, scale_inputs=1.0):
    d = json.load(open(src + fn)); d = copy.deepcopy(d)
    if dt: d["dt"] = dt
    if params: d["params"].update(params)
    for k in ("ex", "in"):
        d["inputs"][k] = (np.array(d["inputs"][k]) * scale_inputs).tolist()
    d = run(d)
    json.dump(d, open(os.path.join(OUT, name + ".json"), "w"))
    print(name, sum(map(sum, d["expected"]["spikes"])))
variant("iaf_psc_exp_random_init.json", "psc_exp_dt1", dt=1.0, scale_inputs=0.5)
variant("iaf_psc_exp_random_init.json", "psc_exp_dt005", dt=0.05)
variant("iaf_psc_exp_random_init.json", "psc_exp_singular", params={"tau_syn_ex": 10.0, "tau_syn_in": 10.0}, scale_inputs=0.3)
variant("iaf_psc_exp.json", "psc_exp_tref205", params={"t_ref": 2.05})
variant("iaf_psc_alpha_random_init.json", "psc_alpha_singular", params={"tau_syn_ex": 10.0, "tau_m": 10.0}, scale_inputs=0.3)
variant("iaf_psc_alpha_random_init.json", "psc_alpha_dt025", dt=0.25, params={"V_min": -75.0})
variant("izhikevich.json", "izh_dt1", dt=1.0, scale_inputs=0.3)
variant("izhikevich_published_numerics.json", "izh_pub_dt05", dt=0.5, scale_inputs=0.5)
