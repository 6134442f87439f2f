"""
python3 -m spiked.pynn install [--target DIR]: writes pyNN/spiked/__init__.py, the
one-line shim that makes `import pyNN.spiked` load this backend, into DIR (default: the
directory of the installed pyNN package). Prints the file written.
"""

import argparse
import os
import sys

SHIM = "from spiked.pynn import *  # noqa: F401,F403  (written by python3 -m spiked.pynn install)\n"


def install(target=None):
    if target is None:
        import pyNN
        target = os.path.dirname(os.path.abspath(pyNN.__file__))
    else:
        target = os.path.join(target, "pyNN") if os.path.basename(
            os.path.normpath(target)) != "pyNN" else target
    d = os.path.join(target, "spiked")
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, "__init__.py")
    with open(path, "w") as f:
        f.write(SHIM)
    return path


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python3 -m spiked.pynn")
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("install", help="write the pyNN.spiked shim")
    p.add_argument("--target", help="the pyNN package directory (or a folder holding pyNN/)")
    a = ap.parse_args(argv)
    print(install(a.target))
    return 0


if __name__ == "__main__":
    sys.exit(main())
