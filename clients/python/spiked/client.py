"""client.py: Client (one server) and Session (one named network on it).

Standard library only: http.client, one connection per request (no state shared between
calls, so a Client may be used from several threads). Every non-2xx answer raises
SpikedError with the server's status, code, path and message. numpy is optional: the data
methods take numpy=True and then return arrays (ImportError when numpy is missing).

    c = Client("http://127.0.0.1:8080", token=None)   # or SPIKED_URL / SPIKED_TOKEN
    s = c.create("examples/coba.json")
    s.step(1000)
    v = s.state("exc", "v", numpy=True)["values"]["v"]
"""
import http.client
import json
import os
import time
import urllib.parse
import warnings

from .errors import SpikedConnectionError, SpikedError
from .events import EventStream

DEFAULT_URL = "http://127.0.0.1:8080"
_JOB_ACTIVE = ("queued", "running")


class TruncatedHistoryWarning(UserWarning):
    """A read asked for steps the server's history no longer holds (its limits
    spike_history / history_steps / max_record_values dropped them, oldest first): the
    result starts at first_kept, later than asked."""


def _warn_truncated(what, asked, first_kept):
    if asked is not None and first_kept is not None and first_kept > asked:
        warnings.warn(f"{what}: steps {asked} to {first_kept - 1} are gone from the server's "
                      f"history (it keeps from step {first_kept}); raise the session's limits "
                      f"or read more often", TruncatedHistoryWarning, stacklevel=3)


def _numpy():
    try:
        import numpy
    except ImportError as e:  # pragma: no cover - depends on the machine
        raise ImportError("numpy=True needs numpy (python3-numpy)") from e
    return numpy


def _neurons(sel):
    """Neuron selection for ?neurons=: None, 'a:b', int, range(a, b), slice or (a, b)."""
    if sel is None or isinstance(sel, str):
        return sel
    if isinstance(sel, int):
        return str(sel)
    if isinstance(sel, (range, slice)):
        if getattr(sel, "step", None) not in (None, 1):
            raise ValueError("neurons: only contiguous ranges (step 1)")
        a = "" if sel.start is None else str(sel.start)
        b = "" if sel.stop is None else str(sel.stop)
        return f"{a}:{b}"
    a, b = sel
    return f"{a}:{b}"


def _csv(v):
    return v if v is None or isinstance(v, str) else ",".join(str(x) for x in v)


class Client:
    """A spiked server. url defaults to $SPIKED_URL, then http://127.0.0.1:8080; token
    (sent as Authorization: Bearer) to $SPIKED_TOKEN. timeout is per request, in seconds."""

    def __init__(self, url=None, token=None, timeout=60.0):
        self.url = (url or os.environ.get("SPIKED_URL") or DEFAULT_URL).rstrip("/")
        self.token = token if token is not None else (os.environ.get("SPIKED_TOKEN") or None)
        self.timeout = timeout
        u = urllib.parse.urlsplit(self.url)
        if u.scheme not in ("http", "https") or not u.hostname:
            raise ValueError(f"url must be http://host[:port][/prefix], got {self.url!r}")
        self._scheme, self._host, self._prefix = u.scheme, u.hostname, u.path.rstrip("/")
        self._port = u.port or (443 if u.scheme == "https" else 80)

    def __repr__(self):
        return f"Client({self.url!r})"

    # ---- transport ----

    def connect(self, timeout=None):
        """A new http.client connection to the server (used by requests and streams)."""
        cls = http.client.HTTPSConnection if self._scheme == "https" else http.client.HTTPConnection
        return cls(self._host, self._port, timeout=timeout or self.timeout)

    def target(self, path, query=None):
        """The request target: URL prefix + path + encoded query (None values left out)."""
        q = {k: v for k, v in (query or {}).items() if v is not None}
        return self._prefix + path + ("?" + urllib.parse.urlencode(q) if q else "")

    def headers(self, extra=None):
        h = {"Accept": "application/json"}
        if self.token:
            h["Authorization"] = f"Bearer {self.token}"
        h.update(extra or {})
        return h

    def call(self, method, path, body=None, query=None):
        """One request; returns (status, decoded JSON or text or None, headers).
        Raises SpikedError for any status >= 400, SpikedConnectionError when unreachable."""
        data = None
        extra = {}
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            extra["Content-Type"] = "application/json"
        conn = self.connect()
        try:
            conn.request(method, self.target(path, query), body=data, headers=self.headers(extra))
            resp = conn.getresponse()
            raw = resp.read()
        except (OSError, http.client.HTTPException) as e:
            raise SpikedConnectionError(f"cannot reach {self.url}: {e}") from e
        finally:
            conn.close()
        if resp.status >= 400:
            raise SpikedError.from_response(resp.status, raw, resp.reason)
        ctype = resp.getheader("Content-Type", "")
        if not raw:
            return resp.status, None, resp.headers
        if ctype.startswith("application/json"):
            try:
                return resp.status, json.loads(raw.decode("utf-8")), resp.headers
            except ValueError as e:
                raise SpikedConnectionError(f"bad JSON from {self.url}: {e}", "bad_response")
        return resp.status, raw.decode("utf-8", "replace"), resp.headers

    def request(self, method, path, body=None, query=None):
        """Like call(), returning the decoded body only."""
        return self.call(method, path, body, query)[1]

    # ---- service ----

    def health(self):
        return self.request("GET", "/healthz")

    def metrics(self):
        """Prometheus text."""
        return self.request("GET", "/metrics")

    def openapi(self):
        return self.request("GET", "/openapi.json")

    def models(self):
        """Every model: name, summary, time_unit, inputs, params (defaults, units), state."""
        return self.request("GET", "/v1/models")["models"]

    def model(self, name):
        for m in self.models():
            if m["name"] == name:
                return m
        raise SpikedError(404, "not_found", "", f"no model {name}")

    # ---- sessions ----

    def sessions(self):
        """The info of every session (list of dicts), following the listing's pages."""
        out, query = [], None
        while True:
            page = self.request("GET", "/v1/sessions", query=query)
            out.extend(page["sessions"])
            if not page.get("next_cursor"):
                return out
            query = {"cursor": page["next_cursor"]}

    def session(self, name):
        """A handle on an existing session (no request is made)."""
        return Session(self, name)

    def get(self, name):
        return self.session(name).info()

    def create(self, network, name=None, seed=None, dt=None, limits=None):
        """Creates a session. network: a path to a JSON file, or a dict that is either a
        whole creation body ({name, seed, dt, network}) or a bare network ({populations,
        ...}). name/seed/dt/limits override the body's. The name is sent in the query too
        (POST /v1/sessions?name=...), so a proxy routing by session name (README
        "Scale-out") can place the create without reading the body. Returns the Session; its
        info() right after creation is in session.created."""
        if isinstance(network, (str, os.PathLike)):
            with open(network, "rb") as f:
                network = json.load(f)
        if not isinstance(network, dict):
            raise TypeError("network must be a dict or a path to a JSON file")
        body = dict(network) if "network" in network else {"network": network}
        for k, v in (("name", name), ("seed", seed), ("dt", dt), ("limits", limits)):
            if v is not None:
                body[k] = v
        q = {"name": body["name"]} if isinstance(body.get("name"), str) else None
        info = self.request("POST", "/v1/sessions", body, query=q)
        s = Session(self, info["name"])
        s.created = info
        s.description = body  # the creation body, kept for provenance()
        return s

    def delete(self, name):
        self.session(name).delete()


class Session:
    """One session on a server: every verb of /v1/sessions/{name}/..."""

    def __init__(self, client, name):
        self.client = client
        self.name = name
        self.created = None
        self.description = None  # the creation body when this client created it
        self._base = "/v1/sessions/" + urllib.parse.quote(name, safe="")

    def __repr__(self):
        return f"Session({self.name!r} on {self.client.url})"

    def _req(self, method, sub="", body=None, query=None):
        return self.client.request(method, self._base + sub, body, query)

    # ---- lifecycle ----

    def info(self):
        """step, time_ms, status, sizes, counters, populations (with params), recorders."""
        return self._req("GET")

    def delete(self):
        self._req("DELETE")

    def reset(self):
        return self._req("POST", "/reset")

    def checkpoint(self):
        """Saves to the server's data directory; returns {step, bytes, path}."""
        return self._req("POST", "/checkpoint")

    def fork(self, name):
        """Copies the session under a new name; returns the new Session."""
        info = self._req("POST", "/fork", {"name": name})
        s = Session(self.client, info["name"])
        s.created = info
        return s

    # ---- stepping ----

    def step(self, steps=None, duration_ms=None, inputs=None, return_spikes=False,
             progress=None, poll_s=0.2):
        """Advances by `steps` (or `duration_ms`); returns one shape whatever the length:
        {from_step, to_step, time_ms, spike_counts: {population: n}, spikes (when
        return_spikes: [{step, time_ms, population, ids}]), job (only when the server ran
        the request as a job)}. When the server answers a long request with a job (202),
        this waits for it (calling progress(job) on each poll); spike_counts then come from
        the populations' spikes_total before and after (exact unless another client steps
        the same session meanwhile), and spikes from the history (TruncatedHistoryWarning
        when it no longer holds them all)."""
        body = {"steps": steps, "duration_ms": duration_ms, "inputs": inputs}
        body = {k: v for k, v in body.items() if v is not None}
        if return_spikes:
            body["return_spikes"] = True
        before = {p["name"]: p["spikes_total"] for p in self.info()["populations"]}
        status, data, _ = self.client.call("POST", self._base + "/step", body)
        if status != 202:
            return data
        job = self.wait(data["job"]["id"], progress, poll_s)
        info = self.info()
        out = {"from_step": info["step"] - job["done"], "to_step": info["step"],
               "time_ms": info["time_ms"],
               "spike_counts": {p["name"]: p["spikes_total"] - before.get(p["name"], 0)
                                for p in info["populations"]}}
        if return_spikes:
            page = self.spikes(from_step=out["from_step"], to_step=out["to_step"])
            out["first_kept"] = page["first_kept"]
            out["spikes"] = page["spikes"]
        out["job"] = job
        return out

    def run(self, steps=None, duration_ms=None, inputs=None, progress=None, poll_s=0.2):
        """Runs as a server job, calling progress(job) (id, state, done, total,
        steps_per_s) while it goes; returns the finished job. Ctrl-C cancels the job."""
        body = {"steps": steps, "duration_ms": duration_ms, "inputs": inputs, "async": True}
        body = {k: v for k, v in body.items() if v is not None}
        status, data, _ = self.client.call("POST", self._base + "/step", body)
        job = data["job"] if status == 202 else None
        if job is None:  # answered at once: nothing left to wait for
            return {"state": "done", "done": data["to_step"] - data["from_step"],
                    "total": data["to_step"] - data["from_step"], "result": data}
        return self.wait(job["id"], progress, poll_s)

    def job(self, job_id):
        return self._req("GET", f"/jobs/{int(job_id)}")

    def cancel(self, job_id):
        return self._req("DELETE", f"/jobs/{int(job_id)}")

    def wait(self, job_id, progress=None, poll_s=0.2):
        """Polls a job until it ends; returns it. A failed job raises SpikedError
        (code job_failed); Ctrl-C cancels the job and re-raises."""
        try:
            while True:
                job = self.job(job_id)
                if progress:
                    progress(job)
                if job["state"] not in _JOB_ACTIVE:
                    break
                time.sleep(poll_s)
        except KeyboardInterrupt:
            try:
                self.cancel(job_id)
            finally:
                raise
        if job["state"] == "failed":
            raise SpikedError(500, "job_failed", "", job.get("error", "the job failed"), job)
        return job

    # ---- inputs and changes ----

    def inject(self, inputs):
        """Queues raw input records (the API's Input objects); returns the count queued."""
        return self._req("POST", "/inputs", {"inputs": list(inputs)})["queued"]

    def inject_current(self, population, value=None, values=None, neurons=None, step=None,
                       offset=None, channel=None):
        """Adds `value` (or values[k] to neurons[k]) to the input at one coming step."""
        rec = {"population": population, "kind": "current", "value": value, "values": values,
               "neurons": neurons, "step": step, "offset": offset, "channel": channel}
        return self.inject([{k: v for k, v in rec.items() if v is not None}])

    def inject_spikes(self, population, neurons=None, step=None, offset=None):
        """Forces `neurons` (default all) of `population` to spike at one coming step."""
        rec = {"population": population, "kind": "spike", "neurons": neurons, "step": step,
               "offset": offset}
        return self.inject([{k: v for k, v in rec.items() if v is not None}])

    def patch(self, population, params=None, **kw):
        """Changes parameters of a population (all or nothing); returns its new info."""
        p = dict(params or {}, **kw)
        return self._req("PATCH", "/populations/" + urllib.parse.quote(population, safe=""),
                         {"params": p})

    def set_realtime(self, on):
        """Starts (True) or stops (False) real-time stepping on the server. The shared
        --demo session refuses a stop (SpikedError 403 forbidden, path realtime) unless the
        server runs with --demo-pausable. Returns the session info."""
        return self._req("PATCH", "", {"realtime": bool(on)})

    def set_rate(self, stimulus, rate_hz):
        """Changes the rate of the Poisson stimulus at index `stimulus`."""
        return self._req("PATCH", f"/stimuli/{int(stimulus)}", {"rate_hz": rate_hz})

    # ---- data ----

    def state(self, population=None, variables=None, neurons=None, numpy=False):
        """{step, population, first, count, values: {var: [...]}}; numpy=True gives float32
        arrays (null, a non-finite value, becomes nan)."""
        q = {"population": population, "variables": _csv(variables), "neurons": _neurons(neurons)}
        out = self._req("GET", "/state", query=q)
        if numpy:
            np = _numpy()
            out["values"] = {k: np.array([np.nan if x is None else x for x in v], np.float32)
                             for k, v in out["values"].items()}
        return out

    def spikes(self, population=None, from_step=0, to_step=None, limit=None, numpy=False):
        """Spikes of [from_step, to_step) (default: up to the current step), every page
        fetched: {from_step, to_step, first_kept, spikes: [{step, time_ms, population, ids}]}
        (time_ms = (step + 1) * dt, NEST's rule). numpy=True makes spikes {population:
        (steps, ids)}, two int64 arrays, one entry per spike (times: spike_times_ms()).
        Steps older than first_kept are gone from the server's history: asking for them
        warns (TruncatedHistoryWarning)."""
        if to_step is None:
            to_step = self.info()["step"]
        pages = []
        frm = from_step
        while True:
            q = {"population": population, "from_step": frm, "to_step": to_step, "limit": limit}
            page = self._req("GET", "/spikes", query=q)
            pages.append(page)
            nxt = page.get("next_from_step")
            if nxt is None or nxt >= to_step or nxt <= frm:
                break
            frm = nxt
        out = {"from_step": pages[0]["from_step"], "to_step": pages[-1]["to_step"],
               "first_kept": pages[-1]["first_kept"],
               "spikes": [e for p in pages for e in p["spikes"]]}
        _warn_truncated("spikes", from_step, out["first_kept"])
        if numpy:
            out["spikes"] = spikes_to_numpy(out["spikes"])
        return out

    def recordings(self, index=0, from_step=None, to_step=None, limit=None, numpy=False):
        """Samples of state recorder `index`, every page fetched, by variable:
        {recorder, population, variables, neurons, every, first_kept,
         steps: [s...], values: {var: [[v per neuron] per sample]}}
        numpy=True: steps an int64 array, values[var] a float32 array (samples x neurons)."""
        if to_step is None:
            to_step = self.info()["step"]
        frm, pages = from_step, []
        while True:
            q = {"from_step": frm, "to_step": to_step, "limit": limit}
            page = self._req("GET", f"/recordings/{int(index)}", query=q)
            pages.append(page)
            nxt = page.get("next_from_step")
            if nxt is None or nxt >= to_step or (frm is not None and nxt <= frm):
                break
            frm = nxt
        rec = pages[0]
        steps = [smp["step"] for p in pages for smp in p["samples"]]
        values = {v: [smp["values"][v] for p in pages for smp in p["samples"]]
                  for v in rec["variables"]}
        out = {k: rec[k] for k in ("recorder", "population", "variables", "neurons", "every")}
        out["first_kept"] = pages[-1]["first_kept"]
        _warn_truncated(f"recordings/{int(index)}", from_step, out["first_kept"])
        out["steps"] = steps
        out["values"] = values
        if numpy:
            np = _numpy()
            out["steps"] = np.array(steps, np.int64)
            n = len(rec["neurons"])
            out["values"] = {k: np.array([[np.nan if x is None else x for x in row] for row in v],
                                         np.float32).reshape(len(v), n)
                             for k, v in out["values"].items()}
        return out

    def events(self, population=None, last_event_id=None, reconnect=True, retry_s=None,
               max_retries=10, read_timeout=60.0):
        """The session's Server-Sent Events as an iterator of Event(type, id, data); see
        EventStream. Reconnects after a dropped connection with Last-Event-ID, so spike
        batches continue where they stopped (within the server's history)."""
        return EventStream(self.client, self._base + "/events", population, last_event_id,
                           reconnect, retry_s, max_retries, read_timeout)


    # ---- export ----

    def provenance(self):
        """What a result needs to be reproduced: the session's name, seed, dt, step and
        time, its network as the server describes it (populations with every parameter,
        projections, recorders), the creation body when this Session object created it
        (connectivity rules, weights, stimuli), the models' references, the server's API
        version and this client's version."""
        from . import __version__
        info = self.info()
        used = {p["model"] for p in info["populations"]}
        models = {m["name"]: {"reference": m.get("reference"), "time_unit": m.get("time_unit")}
                  for m in self.client.models() if m["name"] in used}
        api = self.client.openapi().get("info", {})
        return {"session": info["name"], "seed": info["seed"], "dt_ms": info["dt"],
                "step": info["step"], "time_ms": info["time_ms"],
                "network": {k: info.get(k) for k in ("populations", "projections",
                                                     "n_stimuli", "recorders")},
                "creation_body": self.description,
                "models": models, "server_api_version": api.get("version"),
                "client_version": __version__, "spike_time_rule": "time_ms = (step + 1) * dt"}

    def export_spikes(self, path, population=None, from_step=0, to_step=None):
        """Writes the spikes of [from_step, to_step) with their provenance. path ending in
        .csv: lines time_ms,step,population,neuron after '#' lines holding the provenance
        as JSON; .npz: arrays <population>_times_ms, <population>_steps, <population>_ids
        and provenance (a JSON string; needs numpy); .json: {provenance, spikes}. Returns
        the number of spikes written."""
        page = self.spikes(population=population, from_step=from_step, to_step=to_step)
        prov = self.provenance()
        prov["from_step"], prov["to_step"] = page["from_step"], page["to_step"]
        prov["first_kept"] = page["first_kept"]
        dt = prov["dt_ms"]
        rows = [(e.get("time_ms", (e["step"] + 1) * dt), e["step"], e["population"], i)
                for e in page["spikes"] for i in e["ids"]]
        path = str(path)
        if path.endswith(".npz"):
            np = _numpy()
            arrays = {"provenance": np.array(json.dumps(prov))}
            for pop in sorted({r[2] for r in rows}):
                mine = [r for r in rows if r[2] == pop]
                arrays[f"{pop}_times_ms"] = np.array([r[0] for r in mine], np.float64)
                arrays[f"{pop}_steps"] = np.array([r[1] for r in mine], np.int64)
                arrays[f"{pop}_ids"] = np.array([r[3] for r in mine], np.int64)
            np.savez(path, **arrays)
        elif path.endswith(".json"):
            with open(path, "w", encoding="utf-8") as f:
                json.dump({"provenance": prov, "spikes": page["spikes"]}, f)
        else:
            with open(path, "w", encoding="utf-8") as f:
                for line in json.dumps(prov, indent=1).splitlines():
                    f.write("# " + line + "\n")
                f.write("time_ms,step,population,neuron\n")
                for t, st, pop, i in rows:
                    f.write(f"{round(t, 6)!r},{st},{pop},{i}\n")
        return len(rows)

    def to_neo(self, population=None, from_step=0, to_step=None):
        """The spikes of [from_step, to_step) as a neo.Block (needs python3-neo): one
        Segment, one SpikeTrain per neuron of each population (times in ms, t_start =
        from_step * dt, t_stop = to_step * dt; annotations population and neuron), and the
        provenance() in the Block's annotations (its network and models as JSON strings)."""
        import neo
        import quantities as pq
        page = self.spikes(population=population, from_step=from_step, to_step=to_step)
        prov = self.provenance()
        dt = prov["dt_ms"]
        info_pops = [p for p in prov["network"]["populations"]
                     if population is None or p["name"] == population]
        times = {}
        for e in page["spikes"]:
            t = e.get("time_ms", (e["step"] + 1) * dt)
            for i in e["ids"]:
                times.setdefault((e["population"], i), []).append(t)
        t0 = page["from_step"] * dt
        t1 = max(page["to_step"] * dt, t0 + dt)
        block = neo.Block(name=self.name)
        block.annotate(**{k: (json.dumps(v) if isinstance(v, (dict, list)) else v)
                          for k, v in prov.items() if v is not None})
        seg = neo.Segment(name=f"steps {page['from_step']}..{page['to_step']}")
        block.segments.append(seg)
        for p in info_pops:
            for i in range(p["size"]):
                st = neo.SpikeTrain(times.get((p["name"], i), []), units=pq.ms,
                                    t_start=t0 * pq.ms, t_stop=t1 * pq.ms,
                                    name=f"{p['name']}[{i}]")
                st.annotate(population=p["name"], neuron=i)
                seg.spiketrains.append(st)
        return block


def spike_times_ms(entries, dt_ms=None):
    """[{step, time_ms?, population, ids}] -> {population: float64 array of spike times in
    ms}, one per spike: time_ms from the server, else (step + 1) * dt_ms."""
    np = _numpy()
    acc = {}
    for e in entries:
        t = e["time_ms"] if "time_ms" in e else (e["step"] + 1) * dt_ms
        acc.setdefault(e["population"], []).extend([t] * len(e["ids"]))
    return {p: np.array(v, np.float64) for p, v in acc.items()}


def spikes_to_numpy(entries):
    """[{step, population, ids}] -> {population: (steps, ids)} as int64 arrays."""
    np = _numpy()
    acc = {}
    for e in entries:
        st, ids = acc.setdefault(e["population"], ([], []))
        st.extend([e["step"]] * len(e["ids"]))
        ids.extend(e["ids"])
    return {p: (np.array(s, np.int64), np.array(i, np.int64)) for p, (s, i) in acc.items()}


__all__ = ["Client", "Session", "TruncatedHistoryWarning", "spike_times_ms", "spikes_to_numpy"]
