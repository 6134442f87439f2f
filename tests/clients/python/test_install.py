"""test_install.py: the client installs as users install it (issue 19 item 6): into a fresh
virtual environment of Debian's python3 with `pip install ./clients/python`, offline (no
package index: PIP_NO_INDEX), with build isolation (pip's default) and without it, and the
installed `spikectl` and `import spiked` work. Needs python3-venv (packages.txt)."""
import os
import re
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
PKG = os.path.normpath(os.path.join(HERE, "..", "..", "..", "clients", "python"))


def venv(tmp_path):
    d = tmp_path / "venv"
    p = subprocess.run([sys.executable, "-m", "venv", str(d)], capture_output=True, text=True)
    if p.returncode != 0 and "ensurepip" in (p.stdout + p.stderr):
        pytest.fail("python3 -m venv has no ensurepip: install python3-venv (packages.txt)")
    assert p.returncode == 0, p.stderr
    return d


@pytest.mark.parametrize("isolation", [True, False], ids=["isolated", "no-build-isolation"])
def test_pip_installs_the_client_into_a_fresh_venv_offline(tmp_path, isolation):
    d = venv(tmp_path)
    env = dict(os.environ, PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
    env.pop("PYTHONPATH", None)
    cmd = [str(d / "bin" / "pip"), "install", PKG]
    if not isolation:
        cmd.insert(2, "--no-build-isolation")
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    out = subprocess.run([str(d / "bin" / "spikectl"), "--help"], capture_output=True,
                         text=True, env=env, timeout=60)
    assert out.returncode == 0 and out.stdout.startswith("usage: spikectl"), out.stderr
    v = subprocess.run([str(d / "bin" / "python"), "-c",
                        "import spiked, os; print(spiked.__version__, os.path.dirname(spiked.__file__))"],
                       capture_output=True, text=True, env=env, cwd=str(tmp_path), timeout=60)
    version, where = v.stdout.split()
    assert where.startswith(str(d)), "imported from the venv, not the source tree"
    with open(os.path.join(PKG, "pyproject.toml"), encoding="utf-8") as f:
        declared = re.search(r'^version = "([^"]+)"', f.read(), re.M).group(1)
    assert version == declared, "pyproject.toml and spiked.__version__ disagree"
