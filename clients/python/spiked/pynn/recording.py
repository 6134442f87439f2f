"""
spiked.pynn.recording: PyNN's Recorder on the session's spike history and recorders.

Spikes are always in the server's spike history (GET .../spikes); state variables need a
recorder in the creation body, one per (population, variable), sampling every
sampling_interval / dt steps. Asking to record a new state variable after the first
run() raises NotImplementedError (the API has no way to add a recorder to a session);
after reset() it works, since the session is created again. Signals start with the
initial value at t = 0 (PyNN's convention, and NEST's multimeter grid) followed by the
server's samples. The server samples every step (`every` counts from step 0, so its
grid is not PyNN's t = k * sampling_interval); the client keeps the samples on PyNN's grid.
"""

import numpy as np
from pyNN import recording

from . import simulator


class Recorder(recording.Recorder):
    _simulator = simulator

    def __init__(self, population, file=None):
        recording.Recorder.__init__(self, population, file)
        self._indices = {}      # variable -> recorder index of the current session
        self._from_step = 0     # data before this step were cleared (Recorder.clear)

    def _record(self, variable, new_ids, sampling_interval=None):
        if sampling_interval is not None:
            self.sampling_interval = sampling_interval
        st = simulator.state
        if variable != 'spikes' and st.session is not None and new_ids:
            raise NotImplementedError(
                "spiked: recording '%s' after the first run() (the API cannot add a recorder "
                "to a session; call reset() first or record before run())" % variable)

    def _describe(self, first_index):
        """The API's recorders for this population; remembers their indices."""
        self._indices = {}
        self._from_step = 0
        out = []
        p = self.population
        for var in sorted(self.recorded):
            if var == 'spikes' or not self.recorded[var]:
                continue
            if var not in p.celltype.state_map:
                raise NotImplementedError("spiked: recording '%s' of %s" %
                                          (var, p.celltype.__class__.__name__))
            ids = sorted(p.id_to_index(i) for i in self.recorded[var])
            self._indices[var] = first_index + len(out)
            out.append({"population": p._server_name, "variables": [p.celltype.state_map[var][0]],
                        "neurons": [int(i) for i in ids], "every": 1})
        return out

    def _get_spiketimes(self, ids, clear=False):
        st = simulator.state
        p = self.population
        out = {int(i): [] for i in ids}
        if st.session is not None and st.step > self._from_step:
            page = st.session.spikes(population=p._server_name, from_step=self._from_step,
                                     to_step=st.step)
            first = int(p.first_id)
            for e in page["spikes"]:
                for k in e["ids"]:
                    gid = first + k
                    if gid in out:
                        out[gid].append(e["time_ms"])
        if clear:
            self._from_step = st.step
        return {k: np.array(v, float) for k, v in out.items()}

    def _get_all_signals(self, variable, ids, clear=False):
        st = simulator.state
        p = self.population
        if not ids:
            return np.zeros((0, 0)), None
        name, factor = p.celltype.state_map[variable]
        index = [p.id_to_index(i) for i in ids]
        every = max(1, int(round(self.sampling_interval / st.dt)))
        rows = []
        if self._from_step == 0:
            rows.append([p._initial_value(variable, i) for i in index])
        if st.session is not None and variable in self._indices and st.step > 0:
            rec = st.session.recordings(self._indices[variable], from_step=self._from_step,
                                        to_step=st.step)
            col = {n: k for k, n in enumerate(rec["neurons"])}
            for s, vals in zip(rec["steps"], rec["values"][name]):
                if (s + 1) % every == 0:
                    rows.append([(np.nan if vals[col[i]] is None else vals[col[i]]) / factor
                                 for i in index])
        if clear:
            self._from_step = st.step
        return np.array(rows, float).reshape(len(rows), len(ids)), None

    def _local_count(self, variable, filter_ids=None):
        ids = self.filter_recorded(variable, filter_ids)
        spikes = self._get_spiketimes(sorted(ids))
        return {int(i): len(spikes[int(i)]) for i in ids}

    def _clear_simulator(self):
        self._from_step = simulator.state.step

    def _reset(self):
        pass
