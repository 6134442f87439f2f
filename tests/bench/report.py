#!/usr/bin/python3
"""report.py: turns the JSON objects written by tests/bench/run into the benchmark report.

usage: report.py RESULTS_DIR   (prints the text report; writes RESULTS_DIR/../bench-report.json)

Every number is the median of its samples with [min, max]. Ratios against a peer are
computed per interleaved pair of samples (same machine load) and reported the same way.
"""
import json
import os
import statistics
import sys

TARGET_FF = 0.70      # core >= 70% of the bound that applies, at every N
TARGET_COBA = 2.0     # spiked at least 2x faster than Brian2 (wall time per model second)
TARGET_SCALE_GB = 2.0


def load(d, name):
    p = os.path.join(d, name)
    if not os.path.exists(p):
        return None
    with open(p) as f:
        return json.load(f)


def med(xs):
    return statistics.median(xs) if xs else float("nan")


def spread(xs, scale=1.0, fmt="%.3f"):
    if not xs:
        return "n/a"
    m, lo, hi = med(xs) * scale, min(xs) * scale, max(xs) * scale
    return (fmt + " [" + fmt + ", " + fmt + "]") % (m, lo, hi)


def stat_spread(s, scale=1.0, fmt="%.3f"):
    return spread(s["samples"], scale, fmt)


def verdict(ok):
    return "meets" if ok else "MISSES"


def ff_section(ff, brian_ff, out, summary):
    bw = ff["bandwidth_bytes_per_s"]
    out.append("1. ff_lif: N uncoupled LIF neurons (Norse defaults), constant random drive "
               "U[0, 0.3), dt 1 ms; G neuron-updates/s")
    for t in ("1", "2"):
        if t in bw:
            out.append("   memory bandwidth, %s thread(s): %s GB/s (in-place a = a*0.5 + b over "
                       "2 x 256 MiB, 12 B/element)" % (t, stat_spread(bw[t], 1e-9, "%.1f")))
    out.append("   fork/join of 2 empty tasks: sk_pool %s us, spinning %s us" % (
        stat_spread(ff["fork_join_s_pool"], 1e6, "%.2f"),
        stat_spread(ff["fork_join_s_spin"], 1e6, "%.2f")))
    out.append("   bytes per update: core %.1f (21 + 12 per spike), fused loop 21; last-level cache "
               "%d MiB" % (ff["rows"][0]["bytes_per_update_core"], ff["llc_bytes"] / 2**20))
    out.append("")
    out.append("   %9s %2s  %-24s %-24s %7s %7s  %-5s %7s  %s  %7s %7s %7s" % (
        "N", "th", "core", "fused (b)", "bw (a)", "", "bound", "core/bd", "70%", "sse2",
        "c+spin", "halves"))
    rows = []
    for r in ff["rows"]:
        ok = r["ratio_to_bound"] >= TARGET_FF
        rows.append(ok)
        out.append("   %9d %2d  %-24s %-24s %7.3f %7s  %-5s %6.1f%%  %s  %7.3f %7s %7s" % (
            r["n"], r["threads"], stat_spread(r["core"], 1e-9), stat_spread(r["fused"], 1e-9),
            r["bound_bw"] * 1e-9, "", r["resident"], 100 * r["ratio_to_bound"],
            "ok  " if ok else "MISS", r["fused_baseline_isa"]["median"] * 1e-9,
            "%.3f" % (r["core_spin_team"]["median"] * 1e-9) if "core_spin_team" in r else "-",
            "%.3f" % (r["core_halves"]["median"] * 1e-9) if "core_halves" in r else "-"))
    out.append("   (fused (b): the fused loop dispatched like the core's model loops (SK_MODEL_CLONES);"
               " sse2: the same loop at the baseline ISA; c+spin: the core on a spinning "
               "fork/join; halves: two independent networks of N/2 stepped side by side, one "
               "per thread (no data passed between the threads). bound = (b) on 1 thread, or the better of 1 and 2 threads, while the "
               "core's 13 B/neuron fit in the LLC, else (a) = bandwidth / bytes per update; "
               "fused v bit-identical to the core's: %s)" % (
                   "yes" if all(r["fused_v_identical"] for r in ff["rows"]) else "NO"))
    misses = [r for r in ff["rows"] if r["ratio_to_bound"] < TARGET_FF]
    summary.append("ff_lif: %d of %d (N, threads) points reach 70%% of their bound; worst %.1f%% "
                   "(N = %d, %d thread(s))" % (
                       len(rows) - len(misses), len(rows),
                       100 * min(r["ratio_to_bound"] for r in ff["rows"]),
                       min(ff["rows"], key=lambda r: r["ratio_to_bound"])["n"],
                       min(ff["rows"], key=lambda r: r["ratio_to_bound"])["threads"]))
    if brian_ff:
        b = [s["updates_per_s"] for s in brian_ff["samples"]]
        c = [x["rows"][0]["core"]["median"] for x in brian_ff["interleaved"].get("spiked", [])]
        ratio = [ci / bi for ci, bi in zip(c, b)]
        out.append("")
        out.append("   Brian2 peer (%s, %s, 1 thread), N = %d, %d steps: %s G/s; spiked "
                   "interleaved: %s G/s; spiked / Brian2 = %s" % (
                       brian_ff["peer"], brian_ff["float"], brian_ff["n"], brian_ff["steps"],
                       spread(b, 1e-9), spread(c, 1e-9), spread(ratio, 1.0, "%.2f")))
        summary.append("ff_lif vs Brian2 at N = %d: spiked %.2fx Brian2's update rate" % (
            brian_ff["n"], med(ratio)))
    out.append("")


def coba_section(coba, brian2t, out, summary):
    b = coba["samples"]
    inter = coba["interleaved"]
    out.append("2. coba: Brette et al. (2007) COBA, 4000 neurons, p = 0.02, dt 0.1 ms, 1 s of "
               "model time")
    bw = [s["wall_per_model_s"] for s in b]
    out.append("   Brian2 (%s, %s, %d thread, %s):" % (coba["peer"], coba["float"],
                                                       coba["threads"], coba["compile_flags"]))
    out.append("      wall per model s %s s; events/s %s M; rates exc %.2f Hz, inh %.2f Hz; "
               "%d synapses" % (spread(bw, 1.0, "%.4f"),
                                spread([s["events_per_s"] for s in b], 1e-6, "%.1f"),
                                b[0]["rate_exc_hz"], b[0]["rate_inh_hz"], b[0]["synapses"]))
    if brian2t:
        b2 = [s["wall_per_model_s"] for s in brian2t["samples"]]
        out.append("   Brian2, %d OpenMP threads: wall per model s %s s" % (
            brian2t["threads"], spread(b2, 1.0, "%.4f")))
    for name in sorted(inter):
        xs = inter[name]
        if not xs:
            continue
        w = [x["wall_per_model_s"]["median"] for x in xs]
        ev = [x["events_per_s"]["median"] for x in xs]
        ratio = [bi / wi for bi, wi in zip(bw, w)]
        x0 = xs[0]
        ok = med(ratio) >= TARGET_COBA
        out.append("   spiked, %d thread(s) (%s): wall per model s %s s; events/s %s M; rates exc "
                   "%.2f Hz, inh %.2f Hz; %d synapses" % (
                       x0["threads"], x0["runner"], spread(w, 1.0, "%.4f"),
                       spread(ev, 1e-6, "%.1f"), x0["rate_exc_hz"], x0["rate_inh_hz"],
                       x0["synapses"]))
        out.append("      speed-up over Brian2 (1 thread), per interleaved pair: %s x "
                   "(target >= 2: %s)" % (spread(ratio, 1.0, "%.2f"), verdict(ok)))
        summary.append("coba, spiked %d thread(s) (%s): %.2fx Brian2 (target 2x: %s)" % (
            x0["threads"], x0["runner"], med(ratio), verdict(ok)))
    out.append("")


def scale_section(scales, out, summary):
    out.append("3. scale: COBA-like network, 1e6 neurons (800k exc, 200k inh), p = 1e-4, "
               "dt 0.1 ms")
    for sc in scales:
        if not sc:
            continue
        peak = sc["peak_rss_bytes"] / 1e9
        ok = peak < TARGET_SCALE_GB
        out.append("   %d neurons, %d synapses, %s weights: build %.2f s; peak RSS %.3f GB "
                   "(target < 2 GB: %s); the network's own count (sk_net_info.bytes) %.3f GB" % (
                       sc["neurons"], sc["synapses"], "drawn" if sc["drawn_weights"] else "constant",
                       sc["build_s"], peak, verdict(ok), sc["network_bytes"] / 1e9))
        for r in sc["runs"]:
            out.append("      %d thread(s): %s steps/s = %.4f model s per wall s; %.1f Hz; "
                       "%.1f M events/s" % (r["threads"], stat_spread(r["steps_per_s"], 1.0, "%.1f"),
                                            r["steps_per_s"]["median"] * 1e-4, r["rate_hz"],
                                            r["events_per_s"] * 1e-6))
        summary.append("scale (%s weights): build %.1f s, peak RSS %.2f GB (target < 2 GB: %s), "
                       "%.0f steps/s on 1 thread" % (
                           "drawn" if sc["drawn_weights"] else "constant", sc["build_s"], peak,
                           verdict(ok), sc["runs"][0]["steps_per_s"]["median"]))
    out.append("")


def main():
    d = sys.argv[1]
    machine = load(d, "machine.json") or {}
    ff, brian_ff = load(d, "ff_lif.json"), load(d, "brian_ff_lif.json")
    coba, brian2t = load(d, "coba.json"), load(d, "brian_coba_2t.json")
    alone = load(d, "coba_spiked_only.json")
    scales = [load(d, "scale.json"), load(d, "scale_drawn.json")]
    out, summary = [], []
    out.append("spiked benchmarks, %s" % machine.get("date", "?"))
    out.append("machine: %s, %s cores, %s; load average at start %s; %s" % (
        machine.get("cpu", "?"), machine.get("cores", "?"), machine.get("memory", "?"),
        machine.get("load", "?"), machine.get("compiler", "?")))
    out.append("commit %s (source tree); build %s; mode %s; core and C peers built -O3 "
               "-ffp-contract=off -fno-trapping-math, no -march; the core's model loops and "
               "bound (b) dispatched at load time (SK_MODEL_CLONES)" % (
                   machine.get("commit", "?"), machine.get("build", "?"), machine.get("mode", "?")))
    end_load = os.getloadavg()[0]
    start_load = float(str(machine.get("load", "0")).split()[0] or 0)
    cores = machine.get("cores") or os.cpu_count() or 1
    out.append("every number: median [min, max] of its samples; load average %.2f at start, "
               "%.2f at the end (this run included)" % (start_load, end_load))
    if start_load > 0.75 * cores:
        out.append("WARNING: other processes competed for the %d cores during this run: absolute "
                   "numbers and 2-thread results are unreliable; the interleaved ratios less so"
                   % cores)
    out.append("")
    if ff:
        ff_section(ff, brian_ff, out, summary)
    if coba:
        coba_section(coba, brian2t, out, summary)
    elif alone:
        out.append("2. coba (no Brian2 here): spiked %d thread(s): wall per model s %s s; events/s "
                   "%s M; rates exc %.2f Hz, inh %.2f Hz" % (
                       alone["threads"], stat_spread(alone["wall_per_model_s"], 1.0, "%.4f"),
                       stat_spread(alone["events_per_s"], 1e-6, "%.1f"), alone["rate_exc_hz"],
                       alone["rate_inh_hz"]))
        out.append("")
    if any(scales):
        scale_section(scales, out, summary)
    out.append("summary:")
    out.extend("   " + s for s in summary)
    text = "\n".join(out)
    print(text)
    report = {"machine": machine, "ff_lif": ff, "brian_ff_lif": brian_ff, "coba": coba,
              "brian_coba_2t": brian2t, "scale": scales[0], "scale_drawn": scales[1],
              "summary": summary}
    with open(os.path.join(d, os.pardir, "bench-report.json"), "w") as f:
        json.dump(report, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
