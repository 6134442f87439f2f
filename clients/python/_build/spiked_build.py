"""spiked_build.py: the PEP 517 build backend of the spiked client, standard library only.

Why: with setuptools as the backend, `pip install ./clients/python` needs setuptools (and,
below setuptools 70.1, wheel) from PyPI in an isolated build, or from the environment with
--no-build-isolation; a fresh Debian venv has setuptools 66 without wheel and no network
may reach PyPI, so both ways failed (issue 19 item 6). This backend needs nothing: it zips
the `spiked` package into a pure-Python wheel with the METADATA, WHEEL, entry points
(`spikectl`) and RECORD the wheel format (PEP 427 / 491) asks for. Metadata come from
pyproject.toml's [project] table, read by a small reader of the subset used there (tomllib
exists only from Python 3.11). Hooks: build_wheel, build_sdist, build_editable (a .pth file
pointing at this folder), and the optional get_requires_* hooks (nothing required).
"""
import base64
import hashlib
import io
import os
import re
import tarfile
import time
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = "spiked"


def _project():
    """name, version, description, requires-python, optional-dependencies, scripts."""
    text = open(os.path.join(ROOT, "pyproject.toml"), encoding="utf-8").read()
    out, section = {"extras": {}, "scripts": {}}, None
    for raw in text.splitlines():
        line = raw.split(" #")[0].strip()
        if not line or line.startswith("#"):
            continue
        m = re.match(r"^\[(.+)\]$", line)
        if m:
            section = m.group(1).strip()
            continue
        m = re.match(r'^([A-Za-z0-9_.-]+)\s*=\s*(.+)$', line)
        if not m:
            continue
        key, val = m.group(1), m.group(2)
        if section == "project" and val.startswith('"'):
            out[key] = val.strip('"')
        elif section == "project.optional-dependencies":
            out["extras"][key] = re.findall(r'"([^"]+)"', val)
        elif section == "project.scripts":
            out["scripts"][key] = val.strip('"')
    return out


def _dist(p):
    return f"{p['name'].replace('-', '_')}-{p['version']}"


def _metadata(p):
    lines = ["Metadata-Version: 2.1", f"Name: {p['name']}", f"Version: {p['version']}",
             f"Summary: {p.get('description', '')}",
             f"Requires-Python: {p.get('requires-python', '>=3')}"]
    for extra, reqs in p["extras"].items():
        lines.append(f"Provides-Extra: {extra}")
        lines += [f'Requires-Dist: {r}; extra == "{extra}"' for r in reqs]
    return "\n".join(lines) + "\n"


def _dist_info(p):
    """{path in the wheel: bytes} of the .dist-info folder, RECORD excluded."""
    di = _dist(p) + ".dist-info"
    files = {f"{di}/METADATA": _metadata(p).encode(),
             f"{di}/WHEEL": b"Wheel-Version: 1.0\nGenerator: spiked_build\n"
                            b"Root-Is-Purelib: true\nTag: py3-none-any\n"}
    if p["scripts"]:
        eps = "[console_scripts]\n" + "".join(f"{k} = {v}\n" for k, v in p["scripts"].items())
        files[f"{di}/entry_points.txt"] = eps.encode()
    return di, files


def _write_wheel(wheel_directory, files, p):
    di, meta = _dist_info(p)
    files = dict(files, **meta)
    name = _dist(p) + "-py3-none-any.whl"
    record = []
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w", zipfile.ZIP_DEFLATED) as z:
        for path in sorted(files):
            data = files[path]
            info = zipfile.ZipInfo(path, date_time=(2020, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            z.writestr(info, data, zipfile.ZIP_DEFLATED)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
            record.append(f"{path},sha256={digest.decode()},{len(data)}")
        record.append(f"{di}/RECORD,,")
        z.writestr(zipfile.ZipInfo(f"{di}/RECORD", date_time=(2020, 1, 1, 0, 0, 0)),
                   "\n".join(record) + "\n")
    return name


def _package_files():
    out = {}
    base = os.path.join(ROOT, PACKAGE)
    for dirpath, dirnames, filenames in os.walk(base):
        dirnames[:] = [d for d in dirnames if d != "__pycache__"]
        for f in filenames:
            if f.endswith(".py") or f == "py.typed":
                full = os.path.join(dirpath, f)
                rel = os.path.relpath(full, ROOT).replace(os.sep, "/")
                with open(full, "rb") as fh:
                    out[rel] = fh.read()
    return out


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def get_requires_for_build_editable(config_settings=None):
    return []


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    return _write_wheel(wheel_directory, _package_files(), _project())


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    p = _project()
    pth = {f"{p['name'].replace('-', '_')}.pth": (ROOT + "\n").encode()}
    return _write_wheel(wheel_directory, pth, p)


def build_sdist(sdist_directory, config_settings=None):
    p = _project()
    base = _dist(p)
    name = base + ".tar.gz"
    with tarfile.open(os.path.join(sdist_directory, name), "w:gz") as t:
        def add(rel, data):
            info = tarfile.TarInfo(f"{base}/{rel}")
            info.size, info.mtime, info.mode = len(data), int(time.time()), 0o644
            t.addfile(info, io.BytesIO(data))
        for rel in ("pyproject.toml", "_build/spiked_build.py"):
            with open(os.path.join(ROOT, rel), "rb") as fh:
                add(rel, fh.read())
        for rel, data in _package_files().items():
            add(rel, data)
        add("PKG-INFO", _metadata(p).encode())
    return name
