"""
spiked.pynn.simulator: the PyNN backend's simulator state (PyNN 0.10.1's BaseState).

The network a script builds (populations, projections, electrodes, recorders) is kept
here until the first run(); run() then creates one spiked session from it through the
HTTP API (POST /v1/sessions) and steps it (POST .../step). From then on the server holds
the state. reset() deletes the session after the recorders have copied their data into
PyNN's segment cache, so the next run() creates it again from the (possibly changed)
description: time 0, initial values, the same structure, as PyNN's reset() promises.
Spike sources (SpikeSourceArray, SpikeSourcePoisson) are `spike_source` populations whose
spikes are queued as forced spikes with each step request, for the steps of that run.
"""

import atexit
import os

import numpy as np
from pyNN import common

from spiked.client import Client

name = "spiked"


class ID(int, common.IDMixin):
    """A PyNN cell id: a global integer (population.first_id + index)."""

    def __init__(self, n):
        int.__init__(n)
        common.IDMixin.__init__(self)


class State(common.control.BaseState):
    """Simulator state: the description built so far, the session once created."""

    def __init__(self):
        common.control.BaseState.__init__(self)
        self.mpi_rank = 0
        self.num_processes = 1
        self.dt = 0.1
        self.client = None
        self.local_server = None
        self.session = None
        self.session_seq = 0
        self.seed = None
        self.clear()

    # ---- PyNN's contract ----

    def clear(self):
        """Forget the network: populations, projections, sources, recorders, session."""
        self._drop_session()
        self.populations = []
        self.projections = []
        self.current_sources = []
        self.recorders = set()
        self.id_counter = 0
        self.segment_counter = -1
        self.write_on_end = []
        self.reset()

    def reset(self):
        """Back to t = 0: the session is deleted and created again at the next run()."""
        self._drop_session()
        for cs in getattr(self, "current_sources", []):
            if cs.__dict__.get("_recorded") is not None:
                object.__setattr__(cs, "_recorded", [])
        self.running = False
        self.t = 0.0
        self.t_start = 0.0
        self.step = 0
        self.segment_counter += 1

    def run(self, simtime):
        """Advance by simtime ms (a whole number of steps, rounded)."""
        self.run_until(self.t + simtime)

    def run_until(self, tstop):
        target = int(round(tstop / self.dt))
        if self.session is None:
            self._create_session()
        self.running = True
        n = target - self.step
        if n <= 0:
            return
        inputs = []
        for p in self.populations:
            inputs.extend(p._source_inputs(self.step, target))
        for cs in self.current_sources:
            inputs.extend(cs._inputs(self.step, target))
            cs._record_steps(self.step, target)
        self.session.step(steps=n, inputs=inputs or None)
        self.step = target
        self.t = target * self.dt

    # ---- the server ----

    def connect(self, url=None, token=None):
        """Use the server at url (or $SPIKED_URL); without either, start a private one."""
        url = url or os.environ.get("SPIKED_URL")
        token = token if token is not None else os.environ.get("SPIKED_TOKEN")
        if not url:
            if self.local_server is None:
                from .local import LocalServer
                self.local_server = LocalServer()
            url = self.local_server.url
        self.client = Client(url, token=token)

    def disconnect(self):
        self._drop_session()
        if self.local_server is not None:
            self.local_server.stop()
            self.local_server = None
        self.client = None

    def _drop_session(self):
        if getattr(self, "session", None) is not None:
            try:
                self.session.delete()
            except Exception:  # the server may be gone already; nothing to keep
                pass
            self.session = None

    def _create_session(self):
        if self.client is None:
            self.connect()
        net = {"populations": [], "projections": [], "stimuli": [], "recorders": []}
        for p in self.populations:
            net["populations"].append(p._describe())
        for prj in self.projections:
            net["projections"].extend(prj._describe())
        for p in self.populations:
            net["stimuli"].extend(p._stimuli())
        for cs in self.current_sources:
            net["stimuli"].extend(cs._describe())
        for p in self.populations:
            net["recorders"].extend(p.recorder._describe(len(net["recorders"])))
        for k in ("projections", "stimuli", "recorders"):
            if not net[k]:
                del net[k]
        self.session_seq += 1
        sname = "pynn-%d-%d" % (os.getpid(), self.session_seq)
        seed = self.seed if self.seed is not None else 12345
        if self.min_delay == 'auto' or getattr(self, "auto_min_delay", False):
            # PyNN's min_delay='auto': the shortest delay of the network (dt without any)
            self.auto_min_delay = True
            ds = [d for prj in self.projections for d in prj._attr.get("delay", [])]
            self.min_delay = float(min(ds)) if ds else self.dt
        self.session = self.client.create(net, name=sname, seed=int(seed), dt=self.dt)
        self.step = 0


state = State()


@atexit.register
def _at_exit():
    """A script that ends without sim.end() must not leave its session on a shared
    server, nor a private server running."""
    try:
        state.disconnect()
    except Exception:  # interpreter shutdown: best effort
        pass
