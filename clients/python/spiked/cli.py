"""cli.py: `spikectl`, the command line of the spiked server, on top of spiked.Client.

    spikectl [--url URL] [--token T] [--json] COMMAND ...
Readable tables by default, the server's JSON with --json. URL and token also come from
SPIKED_URL and SPIKED_TOKEN. Exit status: 0 done, 1 the server refused (its status, code,
field and message are printed), 2 usage error or unreadable file, 3 server unreachable,
130 interrupted.
"""
import argparse
import json
import os
import sys

from .client import Client
from .errors import SpikedConnectionError, SpikedError

EXIT_SERVER, EXIT_USAGE, EXIT_CONNECT, EXIT_INTERRUPT = 1, 2, 3, 130


class UsageError(Exception):
    pass


# ---- output helpers ----

def table(rows, headers):
    """Left-aligned columns; numbers right-aligned."""
    rows = [["" if c is None else str(c) for c in r] for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(headers)]
    num = [all(_isnum(r[i]) for r in rows) and rows for i in range(len(headers))]

    def fmt(r):
        return "  ".join(c.rjust(w) if num[i] else c.ljust(w)
                         for i, (c, w) in enumerate(zip(r, widths))).rstrip()
    return "\n".join([fmt(headers)] + [fmt(r) for r in rows])


def _isnum(s):
    try:
        float(s)
        return True
    except ValueError:
        return False


def num(x):
    return f"{x:.6g}" if isinstance(x, float) else str(x)


def ms(x):
    """A time in ms, every digit kept up to 1 ns, no float noise: 22119.1, 100, 0.3."""
    t = repr(round(float(x), 6))
    return t[:-2] if t.endswith(".0") else t


def emit(args, data, text):
    """Prints the JSON (--json) or the readable text (a string or a callable making it)."""
    if args.json:
        print(json.dumps(data, indent=2))
    else:
        out = text() if callable(text) else text
        if out:
            print(out)


def parse_ids(spec):
    """'0,3,5:8' -> [0, 3, 5, 6, 7]."""
    ids = []
    for part in spec.split(","):
        part = part.strip()
        try:
            if ":" in part:
                a, b = part.split(":", 1)
                ids.extend(range(int(a), int(b)))
            elif part:
                ids.append(int(part))
        except ValueError:
            raise UsageError(f"neurons: expected ids like 0,3,5:8, got {spec!r}")
    return ids


def load_json(path):
    try:
        if path == "-":
            return json.load(sys.stdin)
        with open(path, "rb") as f:
            return json.load(f)
    except OSError as e:
        raise UsageError(f"cannot read {path}: {e.strerror}")
    except ValueError as e:
        raise UsageError(f"{path} is not valid JSON: {e}")


def describe_session(i):
    lines = [f"{i['name']}: {i['status']}, step {i['step']} ({ms(i['time_ms'])} ms, "
             f"dt {num(i['dt'])} ms), seed {i['seed']}",
             f"{i['n_neurons']} neurons, {i['n_synapses']} synapses, {i['spikes_total']} spikes, "
             f"{i['bytes']} bytes, {i['pending_inputs']} pending inputs"]
    if i.get("job"):
        j = i["job"]
        lines.append(f"job {j['id']}: {j['state']} {j['done']}/{j['total']}")
    lines += ["", table([[p["name"], p["model"], p["size"], p["offset"], p["spikes_total"]]
                         for p in i["populations"]],
                        ["POPULATION", "MODEL", "SIZE", "OFFSET", "SPIKES"])]
    if i["projections"]:
        lines += ["", table([[p["source"], p["target"], p["n_synapses"], p["max_delay"],
                              p["storage"]] for p in i["projections"]],
                            ["SOURCE", "TARGET", "SYNAPSES", "MAX_DELAY", "STORAGE"])]
    if i["recorders"]:
        lines += ["", table([[k, r["population"], ",".join(r["variables"]), r["n_neurons"],
                              r["every"], r["samples_kept"]] for k, r in enumerate(i["recorders"])],
                            ["RECORDER", "POPULATION", "VARIABLES", "NEURONS", "EVERY", "KEPT"])]
    return "\n".join(lines)


# ---- commands ----

def cmd_health(c, a):
    emit(a, c.health(), "ok")


def cmd_models(c, a):
    if a.model:
        m = c.model(a.model)

        def text():
            rng = lambda p: f"{num(p['minimum'])}..{num(p['maximum'])}"  # noqa: E731
            return "\n".join([
                f"{m['name']}: {m['summary']}", f"reference: {m['reference']}",
                f"time unit: {m['time_unit']}; inputs: {', '.join(m['inputs']) or '-'}", "",
                table([[p["name"], num(p["default"]), p["unit"], rng(p), p["doc"]]
                       for p in m["params"]], ["PARAM", "DEFAULT", "UNIT", "RANGE", "DOC"]),
                "", table([[s["name"], s["unit"], s["doc"]] for s in m["state"]],
                          ["STATE", "UNIT", "DOC"])])
        return emit(a, m, text)
    ms = c.models()
    emit(a, {"models": ms}, lambda: table(
        [[m["name"], m["time_unit"], ",".join(m["inputs"]) or "-", m["summary"]] for m in ms],
        ["MODEL", "TIME_UNIT", "INPUTS", "SUMMARY"]))


def cmd_list(c, a):
    ss = c.sessions()
    emit(a, {"sessions": ss}, lambda: table(
        [[s["name"], s["status"], s["step"], ms(s["time_ms"]), s["n_neurons"], s["n_synapses"],
          s["spikes_total"]] for s in ss],
        ["NAME", "STATUS", "STEP", "TIME_MS", "NEURONS", "SYNAPSES", "SPIKES"])
        if ss else "no sessions")


def cmd_get(c, a):
    i = c.get(a.name)
    emit(a, i, lambda: describe_session(i))


def cmd_create(c, a):
    s = c.create(load_json(a.file), name=a.name, seed=a.seed, dt=a.dt)
    i = s.created
    emit(a, i, f"created {i['name']}: {i['n_neurons']} neurons, {i['n_synapses']} synapses, "
               f"dt {num(i['dt'])} ms, seed {i['seed']}")


def cmd_delete(c, a):
    for n in a.names:
        c.delete(n)
    emit(a, {"deleted": a.names}, "\n".join(f"deleted {n}" for n in a.names))


def cmd_reset(c, a):
    i = c.session(a.name).reset()
    emit(a, i, f"{i['name']} reset to step {i['step']}")


def cmd_fork(c, a):
    i = c.session(a.name).fork(a.new_name).created
    emit(a, i, f"forked {a.name} into {i['name']} at step {i['step']}")


def cmd_checkpoint(c, a):
    r = c.session(a.name).checkpoint()
    emit(a, r, f"{a.name}: checkpoint of step {r['step']}, {r['bytes']} bytes, {r['path']}")


def progress_printer(a):
    if a.json or not sys.stderr.isatty():
        return None

    def show(job):
        pct = 100.0 * job["done"] / job["total"] if job["total"] else 100.0
        rate = job.get("steps_per_s") or 0
        end = "\n" if job["state"] not in ("queued", "running") else ""
        sys.stderr.write(f"\r{job['state']} {job['done']}/{job['total']} ({pct:5.1f}%, "
                         f"{rate:.0f} steps/s){end}")
        sys.stderr.flush()
    return show


def cmd_step(c, a):
    if (a.steps is None) == (a.ms is None):
        raise UsageError("give a number of steps or --ms DURATION (one of them)")
    r = c.session(a.name).step(a.steps, a.ms, return_spikes=a.spikes,
                               progress=progress_printer(a))

    def text():
        counts = r.get("spike_counts")
        line = f"{a.name}: step {r['from_step']} -> {r['to_step']} ({ms(r['time_ms'])} ms)"
        if counts is not None:
            line += "; spikes: " + (", ".join(f"{p} {n}" for p, n in counts.items()) or "none")
        out = [line]
        for e in r.get("spikes", []):
            out.append(spike_line(e))
        if r.get("next_from_step") is not None:
            out.append(f"(spike list cut at step {r['next_from_step']}: spikectl spikes)")
        return "\n".join(out)
    emit(a, r, text)


def spike_line(e):
    """STEP TIME_ms POPULATION IDS...: one line per (step, population); the time is the
    server's time_ms, (step + 1) * dt."""
    t = f" {ms(e['time_ms'])}ms" if "time_ms" in e else ""
    return f"{e['step']}{t} {e['population']} {' '.join(map(str, e['ids']))}"


def cmd_state(c, a):
    r = c.session(a.name).state(a.population, a.variables, a.neurons)

    def text():
        names = list(r["values"])
        rows = [[r["first"] + k] + [num(r["values"][v][k]) for v in names]
                for k in range(r["count"])]
        return f"{r['population']} at step {r['step']}\n" + table(rows, ["NEURON"] + names)
    emit(a, r, text)


def cmd_spikes(c, a):
    r = c.session(a.name).spikes(a.population, a.from_step, a.to_step)

    def text():
        head = f"steps {r['from_step']}..{r['to_step']} (history from {r['first_kept']})"
        rows = [spike_line(e) for e in r["spikes"]]
        return "\n".join([head] + rows)
    emit(a, r, text)


def cmd_recordings(c, a):
    r = c.session(a.name).recordings(a.index, a.from_step, a.to_step)

    def text():
        cols = [(v, n) for v in r["variables"] for n in r["neurons"]]
        rows = [[s] + [num(r["values"][v][k][r["neurons"].index(n)]) for v, n in cols]
                for k, s in enumerate(r["steps"])]
        return f"recorder {r['recorder']}: {r['population']} every {r['every']} step(s)\n" + \
            table(rows, ["STEP"] + [f"{v}[{n}]" for v, n in cols])
    emit(a, r, text)


def cmd_inputs(c, a):
    s = c.session(a.name)
    if a.file:
        body = load_json(a.file)
        recs = body["inputs"] if isinstance(body, dict) and "inputs" in body else body
        if not isinstance(recs, list):
            raise UsageError(f"{a.file}: expected a list of inputs or {{\"inputs\": [...]}}")
    else:
        if not a.population or not a.kind:
            raise UsageError("give POPULATION and KIND (current VALUE | spike), or --file")
        rec = {"population": a.population, "kind": a.kind}
        if a.kind == "current":
            if a.value is None:
                raise UsageError("current needs a VALUE")
            rec["value"] = a.value
        elif a.value is not None:
            raise UsageError("spike takes no VALUE")
        if a.neurons:
            rec["neurons"] = parse_ids(a.neurons)
        for k in ("offset", "step", "channel"):
            if getattr(a, k) is not None:
                rec[k] = getattr(a, k)
        recs = [rec]
    n = s.inject(recs)
    emit(a, {"queued": n}, f"{a.name}: {n} input record(s) queued")


def cmd_patch(c, a):
    params = {}
    for kv in a.params:
        k, sep, v = kv.partition("=")
        try:
            params[k] = float(v)
        except ValueError:
            sep = ""
        if not sep or not k:
            raise UsageError(f"expected NAME=NUMBER, got {kv!r}")
    p = c.session(a.name).patch(a.population, params)
    emit(a, p, lambda: f"{a.name}/{p['name']}: " + ", ".join(
        f"{k}={num(p['params'][k])}" for k in params))


def cmd_rate(c, a):
    r = c.session(a.name).set_rate(a.index, a.rate_hz)
    emit(a, r, f"{a.name}: stimulus {r['index']} at {num(r['rate_hz'])} Hz")


def cmd_tail(c, a):
    sess = c.session(a.name)
    info = sess.info()
    if not info.get("realtime") and not info.get("job") and a.from_step is None:
        print(f"# {a.name} is not stepping (real time off, no job): waiting for steps; "
              f"`spikectl realtime {a.name} on` or `spikectl step {a.name} N` moves it",
              file=sys.stderr, flush=True)
    stream = sess.events(a.population, a.from_step)
    batches = 0
    with stream:
        for ev in stream:
            if a.json:
                print(json.dumps({"event": ev.type, "id": ev.id, "data": ev.data}), flush=True)
            else:
                line = tail_line(ev, a.spikes)
                if line:
                    print(line, flush=True)
            if ev.type == "spikes":
                batches += 1
                if a.count and batches >= a.count:
                    break


def tail_line(ev, spikes):
    d = ev.data
    if ev.type == "hello":
        pop = f", population {d['population']}" if d.get("population") else ""
        return f"# {d['session']} at step {d['step']} (dt {num(d['dt'])} ms{pop})"
    if ev.type == "spikes":
        counts = {}
        for e in d["spikes"]:
            counts[e["population"]] = counts.get(e["population"], 0) + len(e["ids"])
        line = f"steps {d['from_step']}..{d['to_step']} ({ms(d['t_ms'])} ms): " + \
            (", ".join(f"{p} {n}" for p, n in counts.items()) or "no spikes")
        if spikes:
            line += "".join(f"\n  {spike_line(e)}" for e in d["spikes"])
        return line
    if ev.type == "dropped":
        return f"! dropped {d['count']} batch(es): this reader was too slow"
    if ev.type == "lifecycle":
        return f"# {d['session']} {d['event']} at step {d['step']}"
    if ev.type == "progress":
        return f"# job {d['id']} {d['state']} {d['done']}/{d['total']}"
    return f"# {ev.type} {json.dumps(d)}"


# ---- argument parsing ----

def cmd_realtime(c, a):
    r = c.session(a.name).set_realtime(a.state == "on")
    emit(a, r, lambda: f"{a.name}: real time {'on' if r['realtime'] else 'off'} at step "
                       f"{r['step']} ({ms(r['time_ms'])} ms)")


def cmd_export(c, a):
    n = c.session(a.name).export_spikes(a.file, a.population, a.from_step, a.to_step)
    emit(a, {"file": a.file, "spikes": n}, lambda: f"{a.name}: {n} spikes -> {a.file}")


def build_parser():
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--url", default=argparse.SUPPRESS,
                        help="server URL (default $SPIKED_URL, else http://127.0.0.1:8080)")
    common.add_argument("--token", default=argparse.SUPPRESS,
                        help="bearer token (default $SPIKED_TOKEN)")
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS,
                        help="print the server's JSON")
    common.add_argument("--timeout", type=float, default=argparse.SUPPRESS,
                        help="seconds per request (default 60)")
    p = argparse.ArgumentParser(prog="spikectl", parents=[common],
                                description="Command line of the spiked simulation server.",
                                epilog="exit status: 0 ok, 1 server error, 2 usage, "
                                       "3 unreachable, 130 interrupted")
    sub = p.add_subparsers(dest="cmd", metavar="COMMAND", required=True)

    def cmd(name, fn, help_):
        sp = sub.add_parser(name, parents=[common], help=help_, description=help_)
        sp.set_defaults(fn=fn)
        return sp

    cmd("health", cmd_health, "check that the server answers")
    cmd("models", cmd_models, "list the neuron models, or one model's parameters") \
        .add_argument("model", nargs="?")
    cmd("list", cmd_list, "list the sessions")
    cmd("get", cmd_get, "show a session").add_argument("name")
    sp = cmd("create", cmd_create, "create a session from a JSON file ('-' = stdin)")
    sp.add_argument("file")
    sp.add_argument("--name")
    sp.add_argument("--seed", type=int)
    sp.add_argument("--dt", type=float, help="step in ms")
    cmd("delete", cmd_delete, "delete sessions").add_argument("names", nargs="+")
    cmd("reset", cmd_reset, "back to step 0").add_argument("name")
    sp = cmd("fork", cmd_fork, "copy a session under a new name")
    sp.add_argument("name")
    sp.add_argument("new_name")
    cmd("checkpoint", cmd_checkpoint, "save a session to the server's data directory") \
        .add_argument("name")
    sp = cmd("step", cmd_step, "advance a session by STEPS (or --ms)")
    sp.add_argument("name")
    sp.add_argument("steps", type=int, nargs="?")
    sp.add_argument("--ms", type=float, help="duration in ms instead of steps")
    sp.add_argument("--spikes", action="store_true", help="print the spikes too")
    sp = cmd("state", cmd_state, "current state variables of a population")
    sp.add_argument("name")
    sp.add_argument("population")
    sp.add_argument("variables", nargs="?", help="comma-separated (default all)")
    sp.add_argument("--neurons", help="a:b (half-open), a:, :b or a")
    sp = cmd("spikes", cmd_spikes, "spikes from the session's history")
    sp.add_argument("name")
    sp.add_argument("--population")
    sp.add_argument("--from", dest="from_step", type=int, default=0)
    sp.add_argument("--to", dest="to_step", type=int)
    sp = cmd("recordings", cmd_recordings, "samples of a state recorder")
    sp.add_argument("name")
    sp.add_argument("index", type=int, nargs="?", default=0)
    sp.add_argument("--from", dest="from_step", type=int)
    sp.add_argument("--to", dest="to_step", type=int)
    sp = cmd("tail", cmd_tail, "follow a session's live spikes (Ctrl-C stops)")
    sp.add_argument("name")
    sp.add_argument("--population")
    sp.add_argument("--from-step", help="replay from this step (Last-Event-ID)")
    sp.add_argument("--count", type=int, help="stop after this many spike batches")
    sp.add_argument("--spikes", action="store_true", help="print every spike id")
    sp = cmd("realtime", cmd_realtime,
             "start or stop real-time stepping (the shared --demo refuses 'off' unless the "
             "server runs with --demo-pausable)")
    sp.add_argument("name")
    sp.add_argument("state", choices=["on", "off"])
    sp = cmd("export", cmd_export, "write spikes with provenance to FILE (.csv, .json, .npz)")
    sp.add_argument("name")
    sp.add_argument("file")
    sp.add_argument("--population")
    sp.add_argument("--from", dest="from_step", type=int, default=0)
    sp.add_argument("--to", dest="to_step", type=int)
    sp = cmd("inputs", cmd_inputs,
             "queue inputs: POPULATION current VALUE | POPULATION spike | --file F")
    sp.add_argument("name")
    sp.add_argument("population", nargs="?")
    sp.add_argument("kind", nargs="?", choices=["current", "spike"])
    sp.add_argument("value", nargs="?", type=float)
    sp.add_argument("--neurons", help="ids like 0,3,5:8 (default all)")
    sp.add_argument("--offset", type=int, help="steps from now (default 0)")
    sp.add_argument("--at-step", dest="step", type=int, help="absolute step")
    sp.add_argument("--channel")
    sp.add_argument("--file", help="JSON list of Input objects (or {\"inputs\": [...]})")
    sp = cmd("patch", cmd_patch, "change parameters of a population: NAME=VALUE ...")
    sp.add_argument("name")
    sp.add_argument("population")
    sp.add_argument("params", nargs="+", metavar="NAME=VALUE")
    sp = cmd("rate", cmd_rate, "change the rate of a Poisson stimulus")
    sp.add_argument("name")
    sp.add_argument("index", type=int)
    sp.add_argument("rate_hz", type=float)
    return p


def main(argv=None):
    a = build_parser().parse_args(argv)
    a.json = getattr(a, "json", False)
    try:
        c = Client(getattr(a, "url", None), getattr(a, "token", None),
                   getattr(a, "timeout", 60.0))
        a.fn(c, a)
    except UsageError as e:
        print(f"spikectl: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except ValueError as e:  # a bad --url
        print(f"spikectl: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except SpikedConnectionError as e:
        print(f"spikectl: error: {e.message}", file=sys.stderr)
        return EXIT_CONNECT
    except SpikedError as e:
        print(f"spikectl: error: {e}", file=sys.stderr)
        if e.code == "unauthorized":
            print("spikectl: hint: pass --token or set SPIKED_TOKEN", file=sys.stderr)
        return EXIT_SERVER
    except KeyboardInterrupt:
        return EXIT_INTERRUPT
    except BrokenPipeError:  # e.g. `spikectl tail x | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
