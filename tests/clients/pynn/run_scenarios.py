#!/usr/bin/python3
"""
run_scenarios.py: runs PyNN 0.10.1's simulator-independent scenarios
(test/system/scenarios of its source release, unedited) against pyNN.spiked and counts
passes and failures.

  run_scenarios.py --src DIR [--min-pass N] [--only NAME] [--report FILE]

DIR holds the unpacked source, or gets it (fetch_pynn_source.sh DIR: DIR/pyNN-0.10.1). The
driver makes a private copy of the installed pyNN package, writes the pyNN.spiked shim
into it with `python3 -m spiked.pynn install --target`, adds a stub `testconfig` module
(config = {}), starts one spiked server for all scenarios (SPIKED_URL) and runs each
scenario in its own process (120 s limit): a scenario that raises
NotImplementedError or fails an assertion counts as failed, SkipTest as skipped. It prints
one line per scenario and exits 1 when fewer than N pass.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
CLIENT = os.path.join(ROOT, "clients", "python")

CHILD = r'''
import sys, traceback
sys.path.insert(0, sys.argv[1])
import scenarios
from scenarios.registry import registry
import pyNN.spiked as sim
name = sys.argv[2]
if name == "--list":
    for s in registry:
        print(s.__module__.split(".")[-1] + "." + s.__name__)
    sys.exit(0)
for s in registry:
    if s.__module__.split(".")[-1] + "." + s.__name__ == name:
        break
try:
    s(sim)
except Exception as e:
    if type(e).__name__ == "SkipTest":
        print("RESULT skip", e); sys.exit(0)
    tb = traceback.extract_tb(e.__traceback__)
    where = tb[-1] if tb else None
    msg = (str(e).strip().splitlines() or [""])[0][:200]
    print("RESULT fail %s: %s (%s:%s)" % (type(e).__name__, msg,
          where.filename.split("/")[-1] if where else "?", where.lineno if where else "?"))
    sys.exit(0)
print("RESULT pass")
'''


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--src", required=True)
    ap.add_argument("--min-pass", type=int, default=0)
    ap.add_argument("--only")
    ap.add_argument("--report")
    ap.add_argument("--timeout", type=int, default=120)
    a = ap.parse_args()
    src = os.path.join(a.src, "pyNN-0.10.1") if os.path.isdir(
        os.path.join(a.src, "pyNN-0.10.1")) else a.src
    system = os.path.join(src, "test", "system")
    if not os.path.isdir(os.path.join(system, "scenarios")):
        # not there yet: fetch Debian's source release into --src
        subprocess.run(["sh", os.path.join(HERE, "fetch_pynn_source.sh"), a.src], check=False)
        src = os.path.join(a.src, "pyNN-0.10.1")
        system = os.path.join(src, "test", "system")
    if not os.path.isdir(os.path.join(system, "scenarios")):
        print("no scenarios under", system)
        return 2
    tmp = tempfile.mkdtemp(prefix="pynn-scenarios-")
    server = None
    try:
        import pyNN
        shutil.copytree(os.path.dirname(pyNN.__file__), os.path.join(tmp, "pyNN"),
                        ignore=shutil.ignore_patterns("__pycache__"))
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([tmp, CLIENT, env.get("PYTHONPATH", "")])
        subprocess.run([sys.executable, "-m", "spiked.pynn", "install", "--target", tmp],
                       env=env, check=True, stdout=subprocess.DEVNULL)
        with open(os.path.join(tmp, "testconfig.py"), "w") as f:
            f.write("config = {}\n")
        sys.path.insert(0, CLIENT)
        from spiked.pynn.local import LocalServer
        server = LocalServer()
        env["SPIKED_URL"] = server.url
        env["MPLBACKEND"] = "Agg"
        names = subprocess.run([sys.executable, "-c", CHILD, system, "--list"], env=env,
                               cwd=tmp, check=True, capture_output=True,
                               text=True).stdout.split()
        if a.only:
            names = [n for n in names if a.only in n]
        counts = {"pass": 0, "fail": 0, "skip": 0}
        lines = []
        for n in names:
            try:
                r = subprocess.run([sys.executable, "-c", CHILD, system, n], env=env, cwd=tmp,
                                   capture_output=True, text=True, timeout=a.timeout)
                res = [l for l in r.stdout.splitlines() if l.startswith("RESULT ")]
                res = res[-1][7:] if res else "fail crashed (rc %d): %s" % (
                    r.returncode, (r.stderr.strip().splitlines() or [""])[-1][:200])
            except subprocess.TimeoutExpired:
                res = "fail timeout after %d s" % a.timeout
            kind = res.split()[0]
            counts[kind] += 1
            line = "%-4s %s%s" % (kind, n, res[len(kind):] and " --" + res[len(kind):])
            lines.append(line)
            print(line, flush=True)
        summary = "scenarios: %d, passed %d, failed %d, skipped %d (required: %d)" % (
            len(names), counts["pass"], counts["fail"], counts["skip"], a.min_pass)
        print(summary)
        if a.report:
            with open(a.report, "w") as f:
                f.write("\n".join(lines + [summary]) + "\n")
        return 0 if counts["pass"] >= a.min_pass else 1
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
