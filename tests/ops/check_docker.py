#!/usr/bin/python3
"""check_docker.py: the rules of docker/Dockerfile and docker/compose.yaml, checked without a
Docker engine (test_docker_image.py builds and runs the image where a daemon can run), and
the runtime libraries of the built `spiked` against the packages the image installs.

usage: check_docker.py --spiked BUILD/server/spiked --build-dir BUILD [--root REPO]

Dockerfile rules:
  - two stages, both FROM debian:bookworm-slim;
  - every `apt-get install` installs exactly $(<dir>/scripts/packages <group>) (the list CI
    uses, packages.txt), group `build` in the build stage and `runtime` in the final one,
    with -y --no-install-recommends, after `apt-get update` and followed by
    `rm -rf /var/lib/apt/lists/*` in the same RUN; packages.txt and scripts/packages are
    copied to <dir> first; every RUN is valid shell (bash -n);
  - cmake -D options in the build are defined by the project (or are CMAKE_*), and the
    files the final stage copies from the build stage's install prefix are ones
    `cmake --install` really produces (installed from BUILD into a temporary prefix);
  - final stage: numeric non-root USER; exec-form ENTRYPOINT (spiked is PID 1, so SIGTERM
    reaches it) and CMD; STOPSIGNAL SIGTERM; HEALTHCHECK in exec form running the same
    binary with --healthcheck; VOLUME = SPIKED_DATA_DIR, created and owned by the USER;
    EXPOSE = SPIKED_PORT; no curl or wget, no ADD from a URL, no token value in ENV;
  - no `# syntax=` parser directive (BuildKit would fetch that frontend from a registry);
  - the repository's .dockerignore (the only one every builder reads: the legacy builder
    ignores docker/Dockerfile.dockerignore, so that file must not exist either) keeps .git,
    build trees and the compose token file out, and everything the build needs in.
Runtime libraries (ldd):
  - every library `spiked` loads maps (dpkg -S) to a package that the runtime group
    installs: a package of the group itself, a package the group depends on (recursively,
    from dpkg's Depends/Pre-Depends), or a package of the explicit BASE list below (libc6),
    each verified to be Essential or a dependency of an Essential package, so present in
    every Debian image; libraries the binary names directly (NEEDED) must come from the
    group or from BASE. Sanitizer runtimes are allowed only in a sanitizer build
    (CMakeCache SPIKED_SANITIZE).
compose.yaml: the token from a secret, the data volume at SPIKED_DATA_DIR, one volume per
replica, ports on 127.0.0.1, a stop grace period, the nginx template mounted and every
replica listed in SPIKED_UPSTREAMS with max_fails=0.
Exit status 0 when every rule holds; the failures are listed otherwise.
"""
import argparse
import fnmatch
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile

failures = []
notes = []


def check(cond, msg):
    if not cond:
        failures.append(msg)
    return cond


# ---- Dockerfile parsing ----

def parse_dockerfile(path):
    """Returns a list of stages; a stage is a list of (instruction, args, line)."""
    stages = []
    with open(path) as f:
        lines = f.read().split("\n")
    i = 0
    while i < len(lines):
        start = i + 1
        line = lines[i]
        i += 1
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        while line.rstrip().endswith("\\") and i < len(lines):
            nxt = lines[i]
            i += 1
            if nxt.lstrip().startswith("#"):
                continue
            line = line.rstrip()[:-1] + " " + nxt.strip()
        instr, _, args = line.strip().partition(" ")
        instr = instr.upper()
        if instr == "FROM":
            stages.append([])
        if not stages:
            check(instr == "ARG", "line %d: %s before the first FROM" % (start, instr))
            continue
        stages[-1].append((instr, args.strip(), start))
    return stages


def exec_form(args):
    """The JSON array of an exec-form instruction, or None for shell form."""
    try:
        v = json.loads(args)
    except ValueError:
        return None
    return v if isinstance(v, list) and all(isinstance(x, str) for x in v) else None


def instrs(stage, name):
    return [(a, ln) for (i, a, ln) in stage if i == name]


def env_of(stage):
    env = {}
    for args, _ in instrs(stage, "ENV"):
        for tok in shlex.split(args):
            if "=" in tok:
                k, v = tok.split("=", 1)
                env[k] = v
    return env


def check_installs(stage, group, label, root):
    """Every apt-get install of the stage installs exactly $(DIR/scripts/packages GROUP)."""
    runs = instrs(stage, "RUN")
    n = 0
    for args, ln in runs:
        if "apt-get install" not in args and "apt install" not in args:
            continue
        n += 1
        check("apt install" not in args, "%s line %d: use apt-get, not apt" % (label, ln))
        m = re.search(r"apt-get install\s+(.*?)(?:&&|;|$)", args)
        rest = m.group(1) if m else ""
        subs = re.findall(r"\$\(\s*(\S+)/scripts/packages\s+([a-z ]+?)\s*\)", rest)
        words = re.sub(r"\$\([^)]*\)", " ", rest).split()
        opts = [w for w in words if w.startswith("-")]
        literal = [w for w in words if not w.startswith("-")]
        check(not literal, "%s line %d: packages named by hand (%s); take them from "
              "packages.txt through scripts/packages" % (label, ln, " ".join(literal)))
        check(len(subs) == 1 and subs[0][1].split() == [group],
              "%s line %d: installs %s, want exactly $(DIR/scripts/packages %s)" %
              (label, ln, subs, group))
        check("-y" in opts or "--yes" in opts, "%s line %d: apt-get install without -y" %
              (label, ln))
        check("--no-install-recommends" in opts,
              "%s line %d: apt-get install without --no-install-recommends" % (label, ln))
        upd = args.find("apt-get update")
        check(0 <= upd < args.find("apt-get install"),
              "%s line %d: apt-get update must run in the same RUN, before the install" %
              (label, ln))
        check(re.search(r"rm -rf /var/lib/apt/lists/\*", args) is not None,
              "%s line %d: the same RUN must rm -rf /var/lib/apt/lists/*" % (label, ln))
        if subs:
            d = subs[0][0]
            copies = [a for a, _ in instrs(stage, "COPY") if not a.startswith("--from")]
            for src, dst in (("packages.txt", d + "/packages.txt"),
                             ("scripts/packages", d + "/scripts/packages")):
                check(any(a.split() == [src, dst] for a in copies),
                      "%s: COPY %s %s missing (scripts/packages reads ../packages.txt)" %
                      (label, src, dst))
            out = subprocess.run([os.path.join(root, "scripts", "packages"), group],
                                 capture_output=True, text=True)
            check(out.returncode == 0 and out.stdout.split(),
                  "scripts/packages %s prints no packages" % group)
    check(n >= 1, "%s: no apt-get install of the %s group" % (label, group))


def check_run_syntax(stages):
    for k, st in enumerate(stages):
        for args, ln in instrs(st, "RUN"):
            if exec_form(args) is not None:
                continue
            r = subprocess.run(["bash", "-n", "-c", args], capture_output=True, text=True)
            check(r.returncode == 0, "line %d: RUN is not valid shell: %s" % (ln, r.stderr))


def cmake_options(root):
    opts = set()
    for dirpath, _, files in os.walk(root):
        if "/build" in dirpath[len(root):] or "/.git" in dirpath[len(root):]:
            continue
        for f in files:
            if f == "CMakeLists.txt" or f.endswith(".cmake"):
                with open(os.path.join(dirpath, f), errors="replace") as fh:
                    text = fh.read()
                opts.update(re.findall(r"option\(\s*(\w+)", text))
                opts.update(re.findall(r"set\(\s*(\w+)\s+[^)]*CACHE", text))
    return opts


_INSTALLED = {}


def installed_files(build_dir):
    """Paths (relative to the prefix, with a leading /) that cmake --install produces."""
    if build_dir not in _INSTALLED:
        # The install scripts of the build's top-level folders, tests/ excepted: the image
        # builds with SPIKED_BUILD_TESTS=OFF, and a partial build need not have them.
        scripts = sorted(os.path.join(build_dir, d, "cmake_install.cmake")
                         for d in os.listdir(build_dir)
                         if d != "tests" and os.path.exists(
                             os.path.join(build_dir, d, "cmake_install.cmake")))
        with tempfile.TemporaryDirectory(prefix="spiked-install-") as tmp:
            ok = bool(scripts)
            for sc in scripts:
                r = subprocess.run(["cmake", "-DCMAKE_INSTALL_PREFIX=" + tmp, "-P", sc],
                                   capture_output=True, text=True)
                if r.returncode != 0:
                    print(r.stderr[-1000:])
                    ok = False
            files = set()
            for dirpath, dirs, names in os.walk(tmp):
                for x in dirs + names:
                    files.add("/" + os.path.relpath(os.path.join(dirpath, x), tmp))
            _INSTALLED[build_dir] = files if ok else None
    return _INSTALLED[build_dir]


def check_build_stage(st, root, build_dir):
    label = "build stage"
    check_installs(st, "build", label, root)
    runs = " ".join(a for a, _ in instrs(st, "RUN"))
    known = cmake_options(root)
    for var in re.findall(r"-D(\w+)=", runs):
        check(var.startswith("CMAKE_") or var in known,
              "build stage: cmake -D%s is not an option of the project" % var)
    m = re.search(r"cmake --install \S+ --prefix (\S+)", runs)
    if not check(m is not None, "build stage: no `cmake --install BUILD --prefix DIR`"):
        return None
    prefix = m.group(1)
    installed = installed_files(build_dir)
    if not check(installed is not None, "cmake --install %s failed" % build_dir):
        return prefix
    return prefix, installed


def check_final_stage(st, prefix_installed, runtime_pkgs):
    label = "final stage"
    env = env_of(st)
    check_installs(st, "runtime", label, ROOT)
    for bad in ("curl", "wget"):
        check(bad not in runtime_pkgs, "the runtime group installs %s" % bad)
        for args, ln in instrs(st, "RUN"):
            check(not re.search(r"\b%s\b" % bad, args), "final stage line %d uses %s" %
                  (ln, bad))
    users = instrs(st, "USER")
    if check(users, "final stage: no USER (the image would run as root)"):
        u, ln = users[-1]
        uid = u.split(":")[0]
        check(uid.isdigit() and int(uid) != 0,
              "final stage line %d: USER %s must be a numeric uid other than 0" % (ln, u))
        last_run = max((ln2 for _, ln2 in instrs(st, "RUN")), default=0)
        check(ln > last_run, "final stage: a RUN after USER runs as that user; keep USER last")
    ep = instrs(st, "ENTRYPOINT")
    argv0 = None
    if check(len(ep) == 1, "final stage: want one ENTRYPOINT"):
        v = exec_form(ep[0][0])
        check(v is not None and v and v[0] not in ("/bin/sh", "sh", "/bin/bash", "bash"),
              "final stage: ENTRYPOINT must be exec form running spiked itself (PID 1, so "
              "SIGTERM reaches it), not a shell: %s" % ep[0][0])
        argv0 = v[0] if v else None
    for args, ln in instrs(st, "CMD"):
        check(exec_form(args) is not None, "final stage line %d: CMD in shell form" % ln)
    sig = instrs(st, "STOPSIGNAL")
    check(sig and sig[-1][0] in ("SIGTERM", "15"), "final stage: STOPSIGNAL SIGTERM missing")
    hc = instrs(st, "HEALTHCHECK")
    if check(len(hc) == 1, "final stage: want one HEALTHCHECK"):
        m = re.match(r"((?:--\S+\s+)*)CMD\s+(.*)$", hc[0][0])
        v = exec_form(m.group(2)) if m else None
        check(v is not None and v[0] == argv0 and "--healthcheck" in v,
              "final stage: HEALTHCHECK must run %s --healthcheck in exec form: %s" %
              (argv0, hc[0][0]))
        check(m and "--interval=" in m.group(1) and "--timeout=" in m.group(1),
              "final stage: HEALTHCHECK without --interval/--timeout")
    data = env.get("SPIKED_DATA_DIR")
    vols = []
    for args, _ in instrs(st, "VOLUME"):
        vols += exec_form(args) or args.split()
    check(data and data in vols, "final stage: VOLUME %s != SPIKED_DATA_DIR %s" % (vols, data))
    if users and data:
        ug = users[-1][0]
        check(any(re.search(r"chown %s %s\b" % (re.escape(ug), re.escape(data)), a)
                  for a, _ in instrs(st, "RUN")),
              "final stage: %s is not created and chowned to %s (a new volume copies the "
              "image directory's owner)" % (data, ug))
    ports = " ".join(a for a, _ in instrs(st, "EXPOSE")).split()
    check(env.get("SPIKED_PORT") and env["SPIKED_PORT"] in [p.split("/")[0] for p in ports],
          "final stage: EXPOSE %s does not match SPIKED_PORT %s" % (ports, env.get("SPIKED_PORT")))
    for k, v in env.items():
        if "TOKEN" in k:
            check(k.endswith("_FILE") and v.startswith("/run/secrets/"),
                  "final stage: ENV %s: a token must come from a secret file, not the image" % k)
    if prefix_installed:
        prefix, installed = prefix_installed
        for args, ln in instrs(st, "COPY"):
            if not args.startswith("--from=build"):
                continue
            src = args.split()[1]
            check(src.startswith(prefix + "/") and src[len(prefix):] in installed,
                  "final stage line %d: COPY %s: cmake --install does not produce it" %
                  (ln, src))
    return argv0


def dockerignore_rules(path):
    rules = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                rules.append(line)
    return rules


def ignored(rules, rel):
    out = False
    for r in rules:
        neg = r.startswith("!")
        pat = r[1:] if neg else r
        pat = pat.rstrip("/")
        parts = rel.split("/")
        hit = any(fnmatch.fnmatch("/".join(parts[:k]), pat) or
                  fnmatch.fnmatch("/".join(parts[:k]), pat.replace("**/", "*/")) or
                  (pat.startswith("**/") and fnmatch.fnmatch(parts[k - 1], pat[3:]))
                  for k in range(1, len(parts) + 1))
        if hit:
            out = not neg
    return out


def check_dockerignore(path):
    if not check(os.path.exists(path), "%s missing" % path):
        return
    rules = dockerignore_rules(path)
    for rel in (".git", "build", "build-asan/x", "tests/bench/build/x", "docker/spiked_token"):
        check(ignored(rules, rel), "%s does not exclude %s%s" % (
            os.path.basename(path), rel, " (the compose secret would enter the build context)"
            if "token" in rel else ""))
    for rel in ("packages.txt", "scripts/packages", "CMakeLists.txt", "core/src",
                "proto/openapi.yaml", "server/main.c", "clients/web/index.html",
                "examples/coba.json", "tests/CMakeLists.txt"):
        check(not ignored(rules, rel), "%s excludes %s, which the build needs" %
              (os.path.basename(path), rel))


# ---- runtime libraries ----

# Packages every Debian image has, debian:bookworm-slim included, so the runtime group
# need not list them. Each must be Essential or a dependency of an Essential package
# (checked against dpkg on this machine, the same release as the image).
BASE = {
    "libc6": "the C library, libm and the dynamic loader; Essential packages such as "
             "coreutils, dash and bash depend on it",
}

def sh(argv):
    return subprocess.run(argv, capture_output=True, text=True)


def packages_of(paths):
    """{path: Debian package owning it (or None)}, in one dpkg -S call. Tries the path, its
    real path, and both sides of the /usr merge (ldd and dpkg may disagree on /lib vs
    /usr/lib)."""
    cands = {}
    for path in paths:
        c = [path, os.path.realpath(path)]
        c += [p[4:] if p.startswith("/usr/") else "/usr" + p for p in list(c)]
        cands[path] = c
    owner = {}
    allc = sorted({x for c in cands.values() for x in c})
    for line in sh(["dpkg", "-S"] + allc).stdout.splitlines():
        pkgs, _, f = line.partition(": ")
        if "," not in pkgs and " " not in pkgs:
            owner[f.strip()] = pkgs.split(":")[0]
    return {path: next((owner[x] for x in c if x in owner), None) for path, c in cands.items()}


_DPKG = None


def dpkg_db():
    """{package: (status, depends, pre_depends, essential)} of every package dpkg knows."""
    global _DPKG
    if _DPKG is None:
        _DPKG = {}
        out = sh(["dpkg-query", "-W", "-f=${Package}\t${db:Status-Status}\t${Depends}\t"
                  "${Pre-Depends}\t${Essential}\n"]).stdout
        for line in out.splitlines():
            f = line.split("\t")
            if len(f) == 5 and f[1] == "installed":
                _DPKG[f[0]] = (f[2], f[3], f[4] == "yes")
    return _DPKG


def dep_closure(roots):
    """Installed packages reachable from roots through Depends and Pre-Depends."""
    db = dpkg_db()
    seen = set()
    pending = [r for r in roots if r in db]
    while pending:
        p = pending.pop()
        if p in seen:
            continue
        seen.add(p)
        for clause in (db[p][0] + "," + db[p][1]).split(","):
            alts = [a.strip().split(" ")[0].split(":")[0] for a in clause.split("|")
                    if a.strip()]
            for a in alts:  # the first alternative that is installed
                if a in db:
                    pending.append(a)
                    break
    return seen


def check_libraries(spiked, runtime_pkgs, build_dir):
    r = sh(["ldd", spiked])
    if not check(r.returncode == 0, "ldd %s failed: %s" % (spiked, r.stderr)):
        return
    libs = []
    for line in r.stdout.splitlines():
        line = line.strip()
        m = re.match(r"(\S+) => (\S+) \(", line) or re.match(r"(/\S+) \(", line)
        if not m:
            check("linux-vdso" in line or "statically linked" in line,
                  "ldd line not understood: %s" % line)
            continue
        if len(m.groups()) == 2:
            check(m.group(2) != "not", "ldd: %s not found" % m.group(1))
            libs.append((m.group(1), m.group(2)))
        else:
            libs.append((os.path.basename(m.group(1)), m.group(1)))
    needed = set(re.findall(r"\(NEEDED\)\s+Shared library: \[(\S+)\]",
                            sh(["readelf", "-d", spiked]).stdout))
    check(needed, "readelf -d %s lists no NEEDED libraries" % spiked)
    sanitize = ""
    cache = os.path.join(build_dir, "CMakeCache.txt")
    if os.path.exists(cache):
        m = re.search(r"^SPIKED_SANITIZE:\w+=(.*)$", open(cache).read(), re.M)
        sanitize = m.group(1).strip() if m else ""
    closure = dep_closure(runtime_pkgs)
    owners = packages_of([p for _, p in libs])
    san_closure = set()
    if sanitize:  # the sanitizer runtimes and what they pull in (libstdc++6, ...)
        san_closure = dep_closure([o for o in owners.values()
                                   if o and re.match(r"lib(asan|ubsan|tsan|lsan)\d", o)])
    base_closure = dep_closure([p for p, v in dpkg_db().items() if v[2]])
    for pkg, why in BASE.items():
        check(pkg in base_closure, "BASE lists %s, but no Essential package depends on it: "
              "it may be missing from debian:bookworm-slim" % pkg)
    rows = []
    for soname, path in libs:
        pkg = owners[path]
        if not check(pkg is not None, "%s (%s) belongs to no Debian package" % (soname, path)):
            continue
        if pkg in runtime_pkgs:
            why = "runtime group"
        elif pkg in BASE:
            why = "base image (%s)" % BASE[pkg]
        elif pkg in closure and soname not in needed:
            why = "dependency of the runtime group"
        elif pkg in san_closure:
            why = "sanitizer runtime or its dependency (SPIKED_SANITIZE=%s build only)" % sanitize
        else:
            why = None
        rows.append("%-22s %-40s %-18s %s" % (soname + ("*" if soname in needed else ""),
                                              path, pkg, why or "NOT INSTALLED BY THE IMAGE"))
        check(why is not None,
              "%s (%s) comes from %s, which the runtime group of packages.txt neither lists "
              "nor depends on%s" % (soname, path, pkg,
                                    " (the binary needs it directly: list it)"
                                    if soname in needed and pkg in closure else ""))
    notes.append("libraries of %s (* = NEEDED directly):\n  " % spiked + "\n  ".join(rows))


# ---- compose ----

def check_compose(path, final_env):
    try:
        import yaml
    except ImportError:
        check(False, "python3-yaml missing (packages.txt, build group)")
        return
    with open(path) as f:
        doc = yaml.safe_load(f)
    svcs = doc.get("services", {})
    data = final_env.get("SPIKED_DATA_DIR")
    replicas = [n for n in svcs if n == "spiked" or re.match(r"spiked-\d+$", n)]
    check("spiked" in svcs and len(replicas) >= 3,
          "compose: want a service spiked and at least two replicas spiked-N")
    vols = {}
    for n in replicas:
        s = svcs[n]
        env = s.get("environment", {})
        check(env.get("SPIKED_TOKEN_FILE") == "/run/secrets/spiked_token" and
              "spiked_token" in s.get("secrets", []),
              "compose %s: the token must come from the secret spiked_token" % n)
        mounts = [v for v in s.get("volumes", []) if isinstance(v, str)]
        mine = [v.split(":")[0] for v in mounts if v.split(":")[1] == data]
        check(len(mine) == 1, "compose %s: no volume at %s" % (n, data))
        for v in mine:
            check(v not in vols, "compose: %s and %s share the volume %s (each replica "
                  "restores every checkpoint it finds)" % (vols.get(v), n, v))
            vols[v] = n
        for p in s.get("ports", []):
            check(str(p).startswith("127.0.0.1:"), "compose %s: port %s not on 127.0.0.1" %
                  (n, p))
        grace = str(s.get("stop_grace_period", ""))
        check(re.match(r"^\d+s$", grace) and int(grace[:-1]) >= 30,
              "compose %s: stop_grace_period %r (checkpointing needs time; >= 30s)" % (n, grace))
        check(s.get("read_only") is True and "ALL" in s.get("cap_drop", []),
              "compose %s: want read_only and cap_drop ALL" % n)
    check(doc.get("secrets", {}).get("spiked_token"), "compose: no secret spiked_token")
    ngx = svcs.get("nginx")
    if check(ngx is not None, "compose: no nginx service"):
        env = ngx.get("environment", {})
        ups = env.get("SPIKED_UPSTREAMS", "")
        for n in replicas:
            if n != "spiked":
                check(re.search(r"server %s:8080 max_fails=0;" % re.escape(n), ups),
                      "compose nginx: SPIKED_UPSTREAMS lacks 'server %s:8080 max_fails=0;'" % n)
        check(any("nginx/spiked.conf.template:/etc/nginx/templates/" in v
                  for v in ngx.get("volumes", [])),
              "compose nginx: the template is not mounted into /etc/nginx/templates/")
        for p in ngx.get("ports", []):
            check(str(p).startswith("127.0.0.1:"), "compose nginx: port %s not on 127.0.0.1" % p)
        check(str(env.get("NGINX_ENVSUBST_FILTER", "")).startswith("^SPIKED_"),
              "compose nginx: NGINX_ENVSUBST_FILTER must limit envsubst to SPIKED_*")


ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def check_files(dockerfile, dockerignore, compose, build_dir):
    """The Dockerfile, .dockerignore and compose rules; appends to `failures`."""
    stages = parse_dockerfile(dockerfile)
    runtime_pkgs = set(subprocess.run([os.path.join(ROOT, "scripts", "packages"), "runtime"],
                                      capture_output=True, text=True).stdout.split())
    if check(len(stages) == 2, "want exactly two stages (build, runtime), got %d" % len(stages)):
        for k, st in enumerate(stages):
            frm = st[0][1].split()
            check(frm[0] == "debian:bookworm-slim",
                  "stage %d: FROM %s, want debian:bookworm-slim" % (k + 1, frm[0]))
        check(len(stages[0][0][1].split()) == 3 and stages[0][0][1].split()[1].upper() == "AS"
              and stages[0][0][1].split()[2] == "build", "stage 1 must be named `build`")
        check_run_syntax(stages)
        for st in stages:
            for args_, ln in instrs(st, "ADD"):
                check(not re.search(r"https?://", args_), "line %d: ADD from a URL" % ln)
        pi = check_build_stage(stages[0], ROOT, build_dir)
        check_final_stage(stages[1], pi if isinstance(pi, tuple) else None, runtime_pkgs)
        check_compose(compose, env_of(stages[1]))
    with open(dockerfile) as f:
        for ln, line in enumerate(f, 1):
            if re.match(r"\s*#\s*syntax\s*=", line, re.I):
                check(False, "line %d: a `# syntax=` directive makes BuildKit fetch a frontend "
                      "from a registry" % ln)
    check(not os.path.exists(os.path.join(os.path.dirname(dockerfile), "Dockerfile.dockerignore")),
          "Dockerfile.dockerignore exists: BuildKit would read it instead of .dockerignore")
    check_dockerignore(dockerignore)
    return runtime_pkgs


# Self-test: each edit breaks one rule, and the checks must notice it. (file, old, new)
MUTATIONS = [
    ("Dockerfile", "FROM debian:bookworm-slim AS build", "FROM debian:bookworm AS build"),
    ("Dockerfile", "FROM debian:bookworm-slim\n", "FROM ubuntu:22.04\n"),
    ("Dockerfile", "$(/src/scripts/packages build)", "$(/src/scripts/packages build) git"),
    ("Dockerfile", "$(/src/scripts/packages build)", "build-essential cmake"),
    ("Dockerfile", "packages runtime)", "packages runtime build)"),
    ("Dockerfile", "COPY scripts/packages /src/scripts/packages\n", ""),
    ("Dockerfile", "install -y --no-install-recommends \\\n      $(/tmp", "install -y \\\n      $(/tmp"),
    ("Dockerfile", " && rm -rf /var/lib/apt/lists/* /tmp/spiked-packages", " && true"),
    ("Dockerfile", "USER 10001:10001", "USER root"),
    ("Dockerfile", "USER 10001:10001\n", ""),
    ("Dockerfile", 'ENTRYPOINT ["/usr/local/bin/spiked"]', "ENTRYPOINT /usr/local/bin/spiked"),
    ("Dockerfile", 'ENTRYPOINT ["/usr/local/bin/spiked"]',
     'ENTRYPOINT ["sh", "-c", "/usr/local/bin/spiked"]'),
    ("Dockerfile", "CMD []", "CMD --demo"),
    ("Dockerfile", "STOPSIGNAL SIGTERM", "STOPSIGNAL SIGKILL"),
    ("Dockerfile", 'CMD ["/usr/local/bin/spiked", "--healthcheck"]',
     "CMD curl -f http://127.0.0.1:8080/healthz"),
    ("Dockerfile", "VOLUME /var/lib/spiked", "VOLUME /data"),
    ("Dockerfile", " && chown 10001:10001 /var/lib/spiked \\\n", ""),
    ("Dockerfile", "EXPOSE 8080", "EXPOSE 9090"),
    ("Dockerfile", "SPIKED_TOKEN_FILE=/run/secrets/spiked_token", "SPIKED_TOKEN=hunter2"),
    ("Dockerfile", "/opt/spiked/share/spiked/web /usr", "/opt/spiked/share/web /usr"),
    ("Dockerfile", "-DSPIKED_BUILD_TESTS=OFF", "-DSPIKED_BUILD_TEST=OFF"),
    ("Dockerfile", " && cmake --install", " && && cmake --install"),
    ("Dockerfile", "COPY --from=build /opt/spiked/bin/spiked",
     "ADD https://example.com/x /x\nCOPY --from=build /opt/spiked/bin/spiked"),
    ("Dockerfile", "# spiked container image", "# syntax=docker/dockerfile:1\n# spiked container image"),
    (".dockerignore", ".git\n", ""),
    (".dockerignore", "docs/\n", "docs/\nscripts/\n"),
    (".dockerignore", "docker/spiked_token\n**/spiked_token*\n", ""),
    ("compose.yaml", '["spiked-data-2:/var/lib/spiked"]', '["spiked-data-1:/var/lib/spiked"]'),
    ("compose.yaml", "server spiked-3:8080 max_fails=0;", "server spiked-3:8080;"),
    ("compose.yaml", '"127.0.0.1:8080:8080"', '"8080:8080"'),
    ("compose.yaml", "stop_grace_period: 60s", "stop_grace_period: 5s"),
    ("compose.yaml", "  secrets: [spiked_token]\n", ""),
]


def self_test(build_dir):
    docker = os.path.join(ROOT, "docker")
    orig = {n: open(os.path.join(docker if n != ".dockerignore" else ROOT, n)).read()
            for n in ("Dockerfile", ".dockerignore", "compose.yaml")}
    bad = 0
    with tempfile.TemporaryDirectory(prefix="spiked-dockercheck-") as tmp:
        def run(texts):
            for n, t in texts.items():
                with open(os.path.join(tmp, n), "w") as f:
                    f.write(t)
            del failures[:]
            check_files(os.path.join(tmp, "Dockerfile"),
                        os.path.join(tmp, ".dockerignore"),
                        os.path.join(tmp, "compose.yaml"), build_dir)
            return list(failures)
        base = run(orig)
        if base:
            print("self-test: the unmodified files already fail: %s" % base)
            return 1
        for name, old, new in MUTATIONS:
            if old not in orig[name]:
                print("self-test: %s no longer contains %r: update MUTATIONS" % (name, old))
                bad += 1
                continue
            texts = dict(orig)
            texts[name] = orig[name].replace(old, new, 1)
            got = run(texts)
            print("%-8s %s: %r -> %r%s" % ("caught" if got else "MISSED", name, old[:50],
                                           new[:50], ("\n         " + got[0]) if got else ""))
            bad += not got
    # A binary that needs libraries the runtime group does not install (curl: libcurl4).
    runtime_pkgs = set(subprocess.run([os.path.join(ROOT, "scripts", "packages"), "runtime"],
                                      capture_output=True, text=True).stdout.split())
    del failures[:]
    other = "/usr/bin/curl"
    check_libraries(other, runtime_pkgs, build_dir)
    print("%-8s ldd of %s%s" % ("caught" if failures else "MISSED", other,
                                ("\n         " + failures[0]) if failures else ""))
    bad += not failures
    del failures[:]
    del notes[:]
    n = len(MUTATIONS) + 1
    print("self-test: %d of %d broken cases caught" % (n - bad, n))
    return 1 if bad else 0


def main():
    global ROOT
    ap = argparse.ArgumentParser()
    ap.add_argument("--spiked", required=True)
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--root", default=ROOT)
    ap.add_argument("--self-test", action="store_true",
                    help="break each rule in a copy of the files and check it is caught")
    args = ap.parse_args()
    ROOT = os.path.abspath(args.root)
    if args.self_test:
        return self_test(args.build_dir)
    docker = os.path.join(ROOT, "docker")
    runtime_pkgs = check_files(os.path.join(docker, "Dockerfile"),
                               os.path.join(ROOT, ".dockerignore"),
                               os.path.join(docker, "compose.yaml"), args.build_dir)
    check_libraries(args.spiked, runtime_pkgs, args.build_dir)
    for n in notes:
        print(n)
    if failures:
        print("\n%d rule(s) broken:" % len(failures))
        for f in failures:
            print("  - " + f)
        return 1
    print("docker: every rule holds (runtime group: %s)" % " ".join(sorted(runtime_pkgs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
