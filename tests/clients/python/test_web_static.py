"""test_web_static.py: the dashboard's files as the server serves them, and its copies of
examples/ (clients/web/examples/README.md says why they are copies)."""
import json
import os
import re
import urllib.request

from conftest import EXAMPLES, ROOT

WEB = os.path.join(ROOT, "clients", "web")


def fetch(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.status, r.headers.get("Content-Type", ""), r.read()


def test_example_copies_match_the_originals_and_the_index():
    copies = os.path.join(WEB, "examples")
    originals = sorted(f for f in os.listdir(EXAMPLES) if f.endswith(".json"))
    shipped = sorted(f for f in os.listdir(copies) if f.endswith(".json") and f != "index.json")
    assert shipped == originals, "run: cp examples/*.json clients/web/examples/"
    for f in originals:
        with open(os.path.join(EXAMPLES, f), "rb") as a, open(os.path.join(copies, f), "rb") as b:
            assert a.read() == b.read(), f"clients/web/examples/{f} differs from examples/{f}"
    with open(os.path.join(copies, "index.json")) as f:
        listed = sorted(x["file"] for x in json.load(f)["examples"])
    assert listed == originals


def test_the_server_serves_the_dashboard_and_every_module_it_imports(server):
    status, ctype, body = fetch(server.url + "/")
    assert status == 200 and ctype.startswith("text/html")
    html = body.decode()
    refs = re.findall(r'(?:src|href)="([^":]+)"', html)
    assert "js/app.js" in refs and "style.css" in refs
    seen, pending = set(), list(refs)
    while pending:  # follow the ES module imports
        ref = pending.pop()
        if ref in seen:
            continue
        seen.add(ref)
        status, ctype, body = fetch(f"{server.url}/{ref}")
        assert status == 200, ref
        if ref.endswith(".js"):
            assert ctype.startswith("text/javascript"), (ref, ctype)
            base = os.path.dirname(ref)
            for imp in re.findall(r"from '(\./[^']+)'", body.decode()):
                pending.append(os.path.normpath(os.path.join(base, imp)))
    assert {"js/api.js", "js/raster.js", "js/traces.js", "js/plot.js", "js/rates.js",
            "favicon.svg"} <= seen
    status, ctype, body = fetch(server.url + "/examples/index.json")
    assert json.loads(body)["examples"]


def test_the_favicon_a_browser_asks_for_by_default_is_served(server):
    # issue 19 item 9: /favicon.ico was a 404 (browsers ask for it without a <link>)
    status, ctype, body = fetch(server.url + "/favicon.ico")
    assert status == 200 and ctype == "image/x-icon"
    assert body[:4] == b"\x00\x00\x01\x00", "an ICO header"


def test_the_dashboard_loads_nothing_from_outside():
    for folder, _, files in os.walk(WEB):
        for f in files:
            if f.endswith((".html", ".js", ".css")):
                with open(os.path.join(folder, f)) as fh:
                    text = fh.read()
                assert not re.search(r"(src|href)=\"(https?:)?//", text), f
                assert not re.search(r"(import|from)\s*\(?['\"]https?://", text), f
