#!/usr/bin/env python3
"""gen.py: generates core/src/models/<name>.c from the model descriptions core/models/<name>.yaml.

A neuron model is described once, as data (README.md beside this file gives the format):
fields with unit, default, range and doc; derived constants; the cross-parameter checks; the
initial state; the per-neuron update as a C block over named locals; and, for ODE models, the
right-hand side and the threshold event. This script turns one description into the C file
that exports the model's `sk_model_t` (tables, enums, derive, init, the step loop with and
without generic refractoriness, the ODE right-hand side). The generated files are checked in;
`gen.py --check` (a CTest) fails when one differs from what its description gives.

The same description is meant to feed a second backend (CUDA): the update block is plain C
over scalar locals, with no pointer or array access of its own.

    /usr/bin/python3 core/models/gen.py            regenerate every model file
    /usr/bin/python3 core/models/gen.py --check    exit 1 if any generated file is stale
"""
import hashlib
import math
import os
import re
import sys

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
OUT_DIR = os.path.join(ROOT, "core", "src", "models")
CUDA_DIR = os.path.join(ROOT, "core", "cuda", "models")
MAX = {"params": 24, "state": 16, "inputs": 3, "derived": 24}


class DescError(Exception):
    pass


def c_ident(name):
    return re.sub(r"[^A-Za-z0-9]", "_", name).upper()


def c_double(x):
    """A double literal that reads back as the same double (or an infinity)."""
    try:
        x = float(x)
    except (TypeError, ValueError):
        raise DescError(f"number expected, got {x!r}")
    if math.isinf(x):
        return "INFINITY" if x > 0 else "-INFINITY"
    r = repr(x)
    if "e" not in r and "." not in r:
        r += ".0"
    return r


def c_float(x):
    """A float literal that reads back as the same float32 (or an infinity)."""
    try:
        x = float(x)  # PyYAML reads 1.0e6 (no exponent sign) as a string; "inf", "-inf" too
    except (TypeError, ValueError):
        raise DescError(f"number expected, got {x!r}")
    if math.isinf(x):
        return "INFINITY" if x > 0 else "-INFINITY"
    r = repr(x)
    if abs(x) >= 1e5 and float("%g" % x) == x:
        r = "%g" % x
    if "e" not in r and "." not in r:
        r += ".0"
    return r + "f"


def c_str(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def uses(code, name):
    return re.search(r"(?<![A-Za-z0-9_.>])" + re.escape(name) + r"(?![A-Za-z0-9_])", code) is not None


def load_common():
    with open(os.path.join(HERE, "common.yaml")) as f:
        return yaml.safe_load(f)


def resolve_fields(items, common, what):
    out = []
    for it in items or []:
        if isinstance(it, str):
            if not it.startswith("@") or it[1:] not in common.get("fields", {}):
                raise DescError(f"{what}: unknown shared field {it!r}")
            it = dict(common["fields"][it[1:]])
        out.append(it)
    return out


def comment_block(text, first):
    lines = [f"/* {first}", " *"]
    for ln in text.rstrip("\n").split("\n"):
        lines.append((" * " + ln).rstrip())
    lines.append(" */")
    return "\n".join(lines)


def indent(code, n):
    pad = " " * n
    return "\n".join((pad + ln) if ln.strip() else "" for ln in code.rstrip("\n").split("\n"))


def field_row(f, state):
    name, unit, doc = f["name"], f.get("unit", "1"), f.get("doc", "")
    if state:
        if f.get("lo_part"):
            return f"    SK_STATE_LO({c_str(name)}, {c_str(unit)}, {c_str(doc)}),"
        return f"    SK_STATE({c_str(name)}, {c_str(unit)}, {c_str(doc)}),"
    flags = []
    if f.get("lo_open"):
        flags.append("SK_FIELD_LO_OPEN")
    if f.get("hi_open"):
        flags.append("SK_FIELD_HI_OPEN")
    if f.get("inf_ok"):
        flags.append("SK_FIELD_INF_OK")
    fl = " | ".join(flags) if flags else "0"
    return (f"    SK_FIELD({c_str(name)}, {c_str(unit)}, {c_double(f['default'])}, "
            f"{c_double(f.get('lo', '-inf'))}, {c_double(f.get('hi', 'inf'))}, {fl},\n"
            f"             {c_str(doc)}),")


def enums(pnames, snames, dnames):
    """The index enums of parameters (P_), state (S_) and derived constants (D_)."""
    rows = ["enum { " + ", ".join(f"{prefix}_{c_ident(x)}" for x in names) + " };"
            for prefix, names in (("P", pnames), ("S", snames), ("D", dnames)) if names]
    return rows + [""]


def generate(path, common):
    with open(path, "rb") as f:
        raw = f.read()
    d = yaml.safe_load(raw)
    name = d["name"]
    if os.path.splitext(os.path.basename(path))[0] != name:
        raise DescError(f"{path}: name {name!r} must match the file name")
    ctype = d.get("compute", "float")
    if ctype not in ("float", "double"):
        raise DescError(f"{name}: compute must be float or double")
    params = resolve_fields(d.get("params"), common, name)
    state = resolve_fields(d.get("state"), common, name)
    # A float64 state variable X is stored as two float32 columns: X (the value rounded to
    # float32: what recorders, the API and users see) and X_lo, the low-order part
    # (float)(x - (double)X), appended after the visible state; together about 48 bits.
    lo_of = {}
    for st in list(state):
        if st.get("f64"):
            if ctype != "double":
                raise DescError(f"{name}: f64 state needs compute: double")
            lo = {"name": st["name"] + "_lo", "unit": st.get("unit", "1"), "lo_part": True,
                  "doc": f"low-order float32 part of {st['name']} (float64 state, two float32 columns)"}
            lo_of[st["name"]] = lo["name"]
            state.append(lo)
    inputs = d.get("inputs") or []
    derived = d.get("derived") or []
    for key, lst in (("params", params), ("state", state), ("inputs", inputs), ("derived", derived)):
        if len(lst) > MAX[key]:
            raise DescError(f"{name}: more than {MAX[key]} {key}")
    pnames = [p["name"] for p in params]
    snames = [s["name"] for s in state]
    dnames = [x["name"] for x in derived]
    all_names = pnames + snames + dnames + ["in_" + i for i in inputs]
    reserved = {"sa_", "n", "j", "ref", "ref_steps", "refrac", "spiked", "spike", "dt", "step_index",
                "p_", "d_", "s_", "err", "ode_c", "c_", "y_"}
    if reserved & set(all_names):
        raise DescError(f"{name}: names reserved by the generator: {sorted(reserved & set(all_names))}")
    if len(set(all_names)) != len(all_names):
        raise DescError(f"{name}: a name is used twice among params, state, derived, inputs")
    # The fingerprint covers what a checkpoint depends on (state layout, inputs, parameters'
    # names and units, dynamics) and not the prose or the defaults: a checkpoint restores
    # across documentation changes and is refused once the dynamics change.
    semantic = {k: d.get(k) for k in ("name", "time_scale", "compute", "flags", "inputs", "derived",
                                       "dt_quantum_ms",
                                       "derive_prologue", "helpers", "prologue", "step", "ode",
                                       "includes", "v_index")}
    semantic["params"] = [(p["name"], p.get("unit")) for p in params]
    semantic["state"] = [(x["name"], x.get("unit"), bool(x.get("f64")), str(x.get("init", "0")))
                         for x in state]
    fingerprint = int(hashlib.sha256(repr(semantic).encode()).hexdigest()[:16], 16)

    out = []
    rel = os.path.relpath(path, ROOT)
    out.append(comment_block(
        d.get("doc", "").rstrip("\n") +
        f"\n\nGENERATED by core/models/gen.py from {rel}: do not edit; change the description and"
        "\nrun the generator (the test core_models_generated checks that this file is current).",
        f"{name}.c: {d['summary']}."))
    out.append('#include "model_util.h"\n')
    if d.get("includes"):
        for inc in d["includes"]:
            out.append(f'#include "{inc}"')
        out.append("")

    out.extend(enums(pnames, snames, dnames))
    out.append("static const sk_field_t params[] = {" if params else "static const sk_field_t *const params = NULL;")
    if params:
        out.extend(field_row(p, False) for p in params)
        out.append("};")
    out.append("static const sk_field_t state[] = {" if state else "static const sk_field_t *const state = NULL;")
    if state:
        out.extend(field_row(s, True) for s in state)
        out.append("};")
    if inputs:
        out.append("static const char *const inputs[] = {" + ", ".join(c_str(i) for i in inputs) + "};")
    else:
        out.append("static const char *const *const inputs = NULL;")
    if derived:
        out.append("static const char *const derived[] = {" + ", ".join(c_str(x) for x in dnames) + "};")
    else:
        out.append("static const char *const *const derived = NULL;")
    out.append("")

    if d.get("helpers"):
        out.append(d["helpers"].rstrip("\n"))
        out.append("")

    def param_locals(code, typ, src="p_"):
        rows = []
        cast = "(float)" if typ == "float" else ""
        for p in pnames:
            if uses(code, p):
                rows.append(f"    const {typ} {p} = {cast}{src}[P_{c_ident(p)}];")
        return rows

    # check()
    has_check = bool(d.get("check"))
    if has_check:
        code = d["check"]
        out.append("static int check(const double *p_, sk_err_t *err)\n{")
        out.extend(param_locals(code, ctype))
        out.append(indent(code, 4))
        out.append("}\n")

    # derive()
    dcode = "\n".join(x["expr"] for x in derived)
    out.append("static void derive(const double *p_, double dt_, double *d_)\n{")
    if not derived:
        out.append("    (void)p_, (void)dt_, (void)d_;")
    else:
        dt_typ = d.get("derive_type", ctype)
        pre = d.get("derive_prologue", "")
        out.extend(param_locals(dcode + "\n" + pre, dt_typ))
        cast = "(float)" if dt_typ == "float" else ""
        out.append(f"    const {dt_typ} dt = {cast}dt_;")
        if pre:
            out.append(indent(pre, 4))
        if not uses(dcode + "\n" + pre, "dt"):
            out.append("    (void)dt;")
        for x in derived:
            out.append(f"    const {dt_typ} {x['name']} = {x['expr']};")
            out.append(f"    d_[D_{c_ident(x['name'])}] = {x['name']};")
    out.append("}\n")

    # init()
    out.append("static void init(const double *p_, float *const *s_, uint32_t n)\n{")
    if not state:
        out.append("    (void)p_, (void)s_, (void)n;")
    else:
        icode = "\n".join(str(s.get("init", "0")) for s in state)
        rows = param_locals(icode, ctype)
        if not rows:
            out.append("    (void)p_;")
        out.extend(rows)
        out.append("    for (uint32_t j = 0; j < n; j++) {")
        for s in state:
            if s.get("lo_part"):
                continue
            init = str(s.get("init", "0"))
            if re.fullmatch(r"-?[0-9.]+(e-?[0-9]+)?", init):
                init = c_float(float(init)) if ctype == "float" else c_double(float(init))
            col = f"s_[S_{c_ident(s['name'])}][j]"
            if s["name"] in lo_of:  # the value split into its float32 high and low parts
                out.append(f"        {col} = (float)({init});")
                out.append(f"        s_[S_{c_ident(lo_of[s['name']])}][j] = "
                           f"(float)(({init}) - (double){col});")
            elif ctype == "double":
                out.append(f"        {col} = (float)({init});")
            else:
                out.append(f"        {col} = {init};")
        out.append("    }")
    out.append("}\n")

    # ODE right-hand side
    ode = d.get("ode")
    if ode:
        out.extend(gen_ode(d, ode, pnames, snames, dnames, ctype, set(lo_of.values())))

    # step(): the CPU loop; the CUDA kernel comes from the same code (step_code("cuda"))
    body = d["step"]
    prologue = d.get("prologue", "")
    whole = body + "\n" + prologue
    vidx = d.get("v_index")

    def step_code(mode):
        """The per-neuron update around the description's block: the CPU's loop over the
        population ("c"), or a CUDA kernel with one thread per neuron ("cuda")."""
        cu = mode == "cuda"
        A = "sa_." if cu else "sa_->"
        R = "__restrict__" if cu else "restrict"
        o = []
        if cu:
            o.append("static __global__ void step_kernel(sk_cuda_args_t sa_, int refrac)\n{")
        else:
            o.append("static SK_ALWAYS_INLINE void step_loop(const sk_step_args_t *sa_, const int refrac)\n{")
        cast = "" if ctype == "double" else "(float)"
        o += [f"    const {ctype} {p} = {cast}{A}p[P_{c_ident(p)}];" for p in pnames if uses(whole, p)]
        o += [f"    const {ctype} {x} = {cast}{A}d[D_{c_ident(x)}];" for x in dnames if uses(whole, x)]
        if uses(whole, "dt"):
            o.append(f"    const {ctype} dt = {cast}{A}dt;")
        if uses(whole, "step_index"):
            o.append(f"    const uint64_t step_index = {A}step;")
        if ode:
            o.append(f"    const ode_ctx_t ode_c = ode_consts({'&sa_' if cu else 'sa_'});")
        if prologue:
            o.append(indent(prologue, 4))
        o += [f"    float *{R} c_{x} = {A}s[S_{c_ident(x)}];" for x in snames]
        o += [f"    const float *{R} c_in_{i} = {A}in[{k}];" for k, i in enumerate(inputs)
              if uses(body, "in_" + i)]
        if ctype == "double":
            o.append(f"    const double *const *in64 = {'sa_.has_in64 ? sa_.in64 : NULL' if cu else 'sa_->in64'};")
        o.append(f"    uint8_t *{R} spiked = {A}spiked;")
        o.append("")
        o.append("    /* locals: stores through uint8_t* may alias *a */")
        o.append(f"    const uint32_t n = {A}n;")
        if uses(body, "SK_REFRAC"):
            o.append(f"    uint16_t *{R} ref = {A}refrac;")
            o.append(f"    const uint16_t ref_steps = {A}refrac_steps;")
        else:
            o.append("    (void)refrac;")
        ind = "        "
        if cu:
            o.append("    const uint32_t j = blockIdx.x * blockDim.x + threadIdx.x;")
            o.append("    if (j >= n)")
            o.append("        return;")
            o.append("    {")
        else:
            o.append("    SK_IVDEP" if not ode and not d.get("no_ivdep") else "")
            o.append("    for (uint32_t j = 0; j < n; j++) {")
        vis = [x for x in snames if x not in lo_of.values()]
        for x in vis:
            if x in lo_of:
                o.append(f"{ind}{ctype} {x} = (double)c_{x}[j] + (double)c_{lo_of[x]}[j];")
            else:
                o.append(f"{ind}{ctype} {x} = c_{x}[j];")
        for k, i in enumerate(inputs):
            if uses(body, "in_" + i):
                if ctype == "double":
                    o.append(f"{ind}const double in_{i} = in64 ? in64[{k}][j] : (double)c_in_{i}[j];")
                else:
                    o.append(f"{ind}const {ctype} in_{i} = c_in_{i}[j];")
        o.append(f"{ind}int spike = 0;")
        o.append(indent(body, 8))
        for x in vis:
            c = "(float)" if ctype == "double" else ""
            o.append(f"{ind}c_{x}[j] = {c}{x};")
            if x in lo_of:
                o.append(f"{ind}c_{lo_of[x]}[j] = (float)({x} - (double)c_{x}[j]);")
        o.append(f"{ind}spiked[j] = (uint8_t)spike;")
        o.append("    }")
        o.append("}\n")
        return o

    out.extend(step_code("c"))
    out.append("SK_MODEL_LOOP(step)\n")

    out.append(f"const sk_model_t sk_model_{name} = {{")
    out.append(f"    .name = {c_str(name)},")
    out.append(f"    .summary = {c_str(d['summary'])},")
    out.append(f"    .reference = {c_str(d['reference'])},")
    out.append(f"    .time_unit = {c_str(d['time_unit'])},")
    out.append(f"    .time_scale = {d['time_scale']!r},")
    flags = d.get("flags") or []
    known = {"sign_split": "SK_MODEL_SIGN_SPLIT", "no_refrac": "SK_MODEL_NO_REFRAC"}
    for fl in flags:
        if fl not in known:
            raise DescError(f"{name}: unknown flag {fl!r}")
    if flags:
        out.append("    .flags = " + " | ".join(known[f] for f in flags) + ",")
    out.append(f"    .version = {int(d.get('version', 1))},")
    out.append(f"    .fingerprint = UINT64_C(0x{fingerprint:016x}),")
    if d.get("dt_quantum_ms"):
        out.append(f"    .dt_quantum_ms = {float(d['dt_quantum_ms'])!r},")
    if d.get("current_input"):
        out.append(f"    .current_input = {inputs.index(d['current_input'])},")
    else:
        out.append("    .current_input = -1,")
    for member, arr, cnt in (("params", "params", len(params)), ("state", "state", len(state)),
                             ("inputs", "inputs", len(inputs)), ("derived", "derived", len(derived))):
        out.append(f"    .{member} = {arr},")
        out.append(f"    .n_{member} = {cnt},")
    if vidx:
        out.append(f"    .v_index = S_{c_ident(vidx)},")
    if has_check:
        out.append("    .check = check,")
    out.append("    .derive = derive,")
    out.append("    .init = init,")
    out.append("    .step = step,")
    out.append("};")
    # The CUDA file: the same enums, ODE system and update, as a kernel and its launcher.
    cu = [comment_block(f"GENERATED by core/models/gen.py from {rel}: do not edit. The CUDA step of\n"
                        f"{name}: the description's update as one thread per neuron (core/cuda/README.md).",
                        f"{name}.cu: {d['summary']}."),
          '#include "sk_cuda_model.h"\n']
    cu.extend(enums(pnames, snames, dnames))
    if ode:
        cu.extend(gen_ode(d, ode, pnames, snames, dnames, ctype, set(lo_of.values()), "sk_cuda_args_t"))
    cu.extend(step_code("cuda"))
    cu.append("/* One step of the population on the GPU; returns 0 or the CUDA error (launch errors only:")
    cu.append(" * the kernel runs asynchronously on `stream`). */")
    cu.append(f'extern "C" int sk_cuda_step_{name}(const sk_cuda_args_t *a, int refrac, void *stream)\n{{')
    cu.append("    if (a->n == 0)\n        return 0;")
    cu.append("    const uint32_t block = 128, grid = (a->n + block - 1) / block;")
    cu.append("    step_kernel<<<grid, block, 0, (cudaStream_t)stream>>>(*a, refrac);")
    cu.append("    return (int)cudaGetLastError();")
    cu.append("}")
    cu_text = "\n".join(cu) + "\n"
    cu_text = re.sub(r"SK_REFRAC\(([^,]+), ([^,]+), ([^)]+)\);",
                     r"if (refrac)\n            \3 = sk_refrac_apply(ref, ref_steps, j, \1, &\2, \3);",
                     cu_text)
    text = "\n".join(out) + "\n"
    # SK_REFRAC(v_old, v_new, z): the generic refractoriness hook (sk_model.h)
    text = re.sub(r"SK_REFRAC\(([^,]+), ([^,]+), ([^)]+)\);",
                  r"if (refrac)\n            \3 = sk_refrac_apply(ref, ref_steps, j, \1, &\2, \3);",
                  text)
    return name, text, cu_text


def gen_ode(d, ode, pnames, snames, dnames, ctype, lo_names, args_t="sk_step_args_t"):
    """The ODE system of a model: its variables (a subset of the state), a context with every
    parameter, derived constant and the other state variables of one neuron, the right-hand
    side, and optionally a threshold event (condition and action)."""
    if ctype != "double":
        raise DescError(f"{d['name']}: ODE models compute in double")
    vars_ = ode["vars"]
    for v in vars_:
        if v not in snames:
            raise DescError(f"{d['name']}: ODE variable {v!r} is not a state variable")
    others = [s for s in snames if s not in vars_ and s not in lo_names]
    out = []
    out.append(f"enum {{ {', '.join('Y_' + c_ident(v) for v in vars_)}, N_Y }};\n")
    out.append("/* One neuron's constants and non-integrated state, as the right-hand side sees them. */")
    out.append("typedef struct ode_ctx {")
    out.extend(f"    double {x};" for x in pnames + dnames + others)
    out.append("} ode_ctx_t;\n")
    out.append(f"static SK_HD ode_ctx_t ode_consts(const {args_t} *a)\n{{")
    out.append("    ode_ctx_t c;")
    out.extend(f"    c.{p} = a->p[P_{c_ident(p)}];" for p in pnames)
    out.extend(f"    c.{x} = a->d[D_{c_ident(x)}];" for x in dnames)
    out.extend(f"    c.{x} = 0.0;" for x in others)
    out.append("    return c;\n}\n")

    def unpack(code, mutable):
        """Locals for what code uses: constants always const; the ODE variables and the
        other state mutable when the code may change them (the event's action)."""
        q = "" if mutable else "const "
        rows = [f"    const double {p} = c->{p};" for p in pnames + dnames if uses(code, p)]
        rows += [f"    {q}double {v} = y[Y_{c_ident(v)}];" for v in vars_ if uses(code, v)]
        rows += [f"    {q}double {x} = c->{x};" for x in others if uses(code, x)]
        return rows

    rhs = ode["rhs"]
    out.append("static SK_HD void ode_rhs(const double *y, double *dy, const void *ctx)\n{")
    out.append("    const ode_ctx_t *c = (const ode_ctx_t *)ctx;")
    out.extend(unpack(rhs, False))
    for v in vars_:
        out.append(f"    double d_{v};")
    out.append(indent(rhs, 4))
    for v in vars_:
        out.append(f"    dy[Y_{c_ident(v)}] = d_{v};")
    out.append("}\n")
    ev = ode.get("event")
    if ev:
        g = ev["distance"]
        out.append("/* The event function: crosses zero upwards where the neuron spikes. */")
        out.append("static SK_HD double ode_event(const double *y, const void *ctx)\n{")
        out.append("    const ode_ctx_t *c = (const ode_ctx_t *)ctx;")
        out.extend(unpack(g, False))
        out.append(f"    return {g};")
        out.append("}\n")
        act = ev["action"]
        out.append("/* The event's action: the jump at the spike. */")
        out.append("static SK_HD void ode_action(double *y, void *ctx)\n{")
        out.append("    ode_ctx_t *c = (ode_ctx_t *)ctx;")
        out.extend(unpack(act, True))
        out.append(indent(act, 4))
        for v in vars_:
            if uses(act, v):
                out.append(f"    y[Y_{c_ident(v)}] = {v};")
        for s in others:
            if uses(act, s):
                out.append(f"    c->{s} = {s};")
        out.append("}\n")
    # the integrator, instantiated for this model (ode_impl.h), and the solve macro the step
    # block uses: it copies the locals in and out
    out.append(f"#define SK_ODE_RTOL {float(ode.get('rtol', 1e-9))!r}")
    out.append(f"#define SK_ODE_ATOL {float(ode.get('atol', 1e-9))!r}")
    out.append(f"#define SK_ODE_EVENT {1 if ev else 0}")
    out.append('#include "ode_impl.h"\n')
    # with an event: ODE_SOLVE(h, events) sets events to the count; without: ODE_SOLVE(h)
    lines = ["#define ODE_SOLVE(h_, n_events_) do { \\" if ev else "#define ODE_SOLVE(h_) do { \\",
             "        ode_ctx_t c_ = ode_c; \\"]
    for s in others:
        lines.append(f"        c_.{s} = {s}; \\")
    lines.append("        double y_[N_Y]; \\")
    for v in vars_:
        lines.append(f"        y_[Y_{c_ident(v)}] = {v}; \\")
    lines.append("        n_events_ = ode_solve(y_, (h_), &c_); \\" if ev
                 else "        (void)ode_solve(y_, (h_), &c_); \\")
    for v in vars_:
        lines.append(f"        {v} = y_[Y_{c_ident(v)}]; \\")
    for s in others:
        lines.append(f"        {s} = c_.{s}; \\")
    lines.append("    } while (0)")
    out.append("/* ODE_SOLVE(h[, events]): integrates the ODE variables of the neuron in the step's")
    out.append(" * locals over h; events = the number of threshold events the solver handled. */")
    out.append("\n".join(lines) + "\n")
    return out


def md_num(x):
    try:
        v = float(x)
    except (TypeError, ValueError):
        return str(x)
    if math.isinf(v):
        return "-inf" if v < 0 else "inf"
    return ("%g" % v) if abs(v) < 1e5 or v == 0 else ("%.3g" % v)


def reference_md(common):
    """docs/model-reference.md: every model's fields, from the descriptions alone."""
    out = ["# Model reference", "",
           "GENERATED by core/models/gen.py from core/models/*.yaml (do not edit): every model's",
           "parameters and state as `GET /v1/models` lists them. The equations and sources are in",
           "[models.md](models.md); the format of the descriptions in core/models/README.md.", ""]
    for name in common.get("registry") or []:
        with open(os.path.join(HERE, name + ".yaml")) as f:
            d = yaml.safe_load(f)
        params = resolve_fields(d.get("params"), common, name)
        state = resolve_fields(d.get("state"), common, name)
        prec = "float64" if d.get("compute") == "double" else "float32"
        out += [f"## `{name}`", "", d["summary"] + ".", "",
                f"Reference: {d['reference']}. Time unit: {d['time_unit']}. Precision: {prec}. "
                f"Inputs: {', '.join(d.get('inputs') or []) or 'none'}"
                + (" (by the sign of the weight)" if "sign_split" in (d.get("flags") or []) else "")
                + f". Version {int(d.get('version', 1))}.", ""]
        if params:
            out += ["| parameter | unit | default | range | meaning |", "|---|---|---|---|---|"]
            for p in params:
                lo = "(" if p.get("lo_open") else "["
                hi = ")" if p.get("hi_open") else "]"
                rng = f"{lo}{md_num(p.get('lo', '-inf'))}, {md_num(p.get('hi', 'inf'))}{hi}"
                out.append(f"| `{p['name']}` | {p.get('unit', '1')} | {md_num(p['default'])} | {rng} "
                           f"| {p.get('doc', '')} |")
            out.append("")
        if state:
            out += ["| state | unit | meaning |", "|---|---|---|"]
            for x in state:
                extra = " (float64: also `%s_lo`)" % x["name"] if x.get("f64") else ""
                out.append(f"| `{x['name']}` | {x.get('unit', '1')} | {x.get('doc', '')}{extra} |")
            out.append("")
    return "\n".join(out) + "\n"


def write_or_check(dst, text, check, stale):
    """Writes dst when it differs from text; with check, records it as stale instead."""
    if (open(dst).read() if os.path.exists(dst) else None) == text:
        return
    if check:
        stale.append(dst)
        return
    with open(dst, "w") as f:
        f.write(text)
    print(f"wrote {os.path.relpath(dst, ROOT)}")


def main(argv):
    check = "--check" in argv
    common = load_common()
    stale = []
    names = []
    for fn in sorted(os.listdir(HERE)):
        if not fn.endswith(".yaml") or fn == "common.yaml":
            continue
        try:
            name, text, cu_text = generate(os.path.join(HERE, fn), common)
        except (DescError, KeyError) as e:
            print(f"gen.py: {fn}: {e}", file=sys.stderr)
            return 2
        names.append(name)
        for dst, t in ((os.path.join(OUT_DIR, name + ".c"), text),
                       (os.path.join(CUDA_DIR, name + ".cu"), cu_text)):
            write_or_check(dst, t, check, stale)
    write_or_check(os.path.join(ROOT, "docs", "model-reference.md"), reference_md(common), check,
                   stale)
    order = common.get("registry") or []
    if sorted(order) != sorted(names):
        print(f"gen.py: common.yaml's registry {order} must list every description {names}",
              file=sys.stderr)
        return 2
    deff = ["/* models.def: the model registry, one X(name) per model, in listing order.",
            " * GENERATED by core/models/gen.py from core/models/common.yaml's registry list. */"]
    deff += [f"X({n})" for n in order]
    write_or_check(os.path.join(OUT_DIR, "models.def"), "\n".join(deff) + "\n", check, stale)
    if check:
        if stale:
            for s in stale:
                print(f"stale: {os.path.relpath(s, ROOT)} differs from its description; "
                      "run /usr/bin/python3 core/models/gen.py", file=sys.stderr)
            return 1
        print(f"{len(names)} generated model files are current")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
