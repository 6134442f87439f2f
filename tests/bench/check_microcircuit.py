#!/usr/bin/env python3
"""check_microcircuit.py: runs bench_microcircuit on the DC-driven microcircuit at scale 0.2
for 1 s (after 200 ms discarded) and checks every population's mean rate against the bounds
of docs/microcircuit.md ("The CI check"), derived from seeds 1-3 of that run: the observed
range widened by 30% each way. A broken rule, delay, weight draw or DC compensation moves
rates far outside them (scale 0.1 and below with DC drive falls silent: see the doc).

usage: check_microcircuit.py BENCH_MICROCIRCUIT
"""
import json
import subprocess
import sys

# population: (low, high) in Hz; observed at seeds 1-3 (docs/microcircuit.md)
BOUNDS = {
    "L23E": (0.39, 0.75), "L23I": (1.53, 2.91), "L4E": (2.64, 4.94), "L4I": (3.41, 6.38),
    "L5E": (4.83, 9.54), "L5I": (5.27, 9.85), "L6E": (0.59, 1.17), "L6I": (4.69, 8.80),
}


def main():
    cmd = [sys.argv[1], "--scale", "0.2", "--t-sim", "1000", "--t-presim", "200",
           "--seed", "5", "--json", "-"]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    d = json.loads(out)
    bad = []
    for pop, (lo, hi) in BOUNDS.items():
        r = d["rates_hz"][pop]
        print("%-5s %7.3f Hz  [%.2f, %.2f]  cv %s" % (pop, r, lo, hi, d["cv_isi"][pop]))
        if not lo <= r <= hi:
            bad.append(pop)
    if d["synapses"] != 11955239 or d["neurons"] != 15435:
        bad.append("size %d neurons %d synapses" % (d["neurons"], d["synapses"]))
    if bad:
        print("out of bounds:", ", ".join(bad))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
