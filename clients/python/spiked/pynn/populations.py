"""
spiked.pynn.populations: Population, PopulationView and Assembly on PyNN's common code.

A Population keeps its native (server-unit) parameters and initial values as arrays
until the session is created; then `_describe()` turns them into one server population
`p<index>`. The API takes one value per parameter and population, so a parameter whose
values differ between neurons raises NotImplementedError there. After the first run(),
set() of a homogeneous value is sent as PATCH .../populations/{pop}; initialize() takes
effect at the next reset() (the session is created again from the description).
"""

import numpy as np
from pyNN import common, errors
from pyNN.parameters import ParameterSpace, simplify, Sequence
from pyNN.standardmodels import StandardCellType

from . import simulator
from .recording import Recorder


class Assembly(common.Assembly):
    _simulator = simulator


class PopulationView(common.PopulationView):
    _assembly_class = Assembly
    _simulator = simulator

    def _get_parameters(self, *names):
        return ParameterSpace({n: simplify(self.parent._parameters[n][self.mask]) for n in names},
                              shape=(self.size,))

    def _set_parameters(self, parameter_space):
        parameter_space.evaluate(simplify=False)
        for name, value in parameter_space.items():
            self.parent._parameters[name][self.mask] = value
        self.parent._changed(list(parameter_space.keys()))

    def _set_initial_value_array(self, variable, initial_values):
        v = initial_values.evaluate(simplify=False) if hasattr(initial_values, "evaluate") \
            else initial_values
        arr = np.broadcast_to(np.asarray(v, float), (self.parent.size,))[self.mask] \
            if np.ndim(v) == 0 or np.size(v) == self.parent.size else np.asarray(v, float)
        self.parent._initial.setdefault(
            variable, np.zeros(self.parent.size))[self.mask] = arr

    def _get_view(self, selector, label=None):
        return PopulationView(self, selector, label)


class Population(common.Population):
    __doc__ = common.Population.__doc__
    _simulator = simulator
    _recorder_class = Recorder
    _assembly_class = Assembly

    def _create_cells(self):
        if not isinstance(self.celltype, StandardCellType) or \
                not hasattr(self.celltype, "spiked_model"):
            raise NotImplementedError(
                "spiked: only PyNN's standard cell types that map to a spiked model "
                "(IF_curr_exp, IF_curr_alpha, IF_cond_exp, IF_cond_alpha, "
                "EIF_cond_exp_isfa_ista, Izhikevich, SpikeSourceArray, SpikeSourcePoisson)")
        st = simulator.state
        if st.session is not None:
            raise NotImplementedError(
                "spiked: creating a population after the first run() (call reset() first)")
        self.all_cells = np.array([simulator.ID(i) for i in
                                   range(st.id_counter, st.id_counter + self.size)],
                                  dtype=simulator.ID)
        self._mask_local = np.ones(self.size, bool)
        ps = self.celltype.native_parameters
        ps.shape = (self.size,)
        ps.evaluate(simplify=False)
        self._parameters = ps.as_dict()
        if "spike_times" in self._parameters:
            for seq in self._parameters["spike_times"]:
                t = np.asarray(getattr(seq, "value", seq), float)
                if t.size > 1 and np.any(np.diff(t) < 0):
                    raise errors.InvalidParameterValueError(
                        "spike times of a SpikeSourceArray must be in increasing order")
        self._initial = {}
        for c in self.all_cells:
            c.parent = self
        st.id_counter += self.size
        self._server_name = "p%d" % len(st.populations)
        self._index = len(st.populations)
        st.populations.append(self)

    def _set_initial_value_array(self, variable, initial_values):
        v = initial_values.evaluate(simplify=False) if hasattr(initial_values, "evaluate") \
            else initial_values
        self._initial[variable] = np.array(np.broadcast_to(np.asarray(v, float), (self.size,)))

    def _get_view(self, selector, label=None):
        return PopulationView(self, selector, label)

    def _get_parameters(self, *names):
        return ParameterSpace({n: simplify(self._parameters[n]) for n in names},
                              shape=(self.local_size,))

    def _set_parameters(self, parameter_space):
        parameter_space.evaluate(simplify=False)
        for name, value in parameter_space.items():
            self._parameters[name] = value
        self._changed(list(parameter_space.keys()))

    # ---- spiked ----

    def _is_source(self):
        return self.celltype.spiked_model == "spike_source"

    def _changed(self, names):
        """Parameters changed: after the first run(), send them to the server."""
        st = simulator.state
        if st.session is None or self._is_source():
            return
        st.session.patch(self._server_name, self._scalar_params(names))

    def _scalar_params(self, names):
        out = {}
        for n in names:
            vals = np.asarray(self._parameters[n], float)
            if vals.size and not np.all(vals == vals.flat[0]):
                raise NotImplementedError(
                    "spiked: per-neuron values of parameter '%s' (population %s): the API takes "
                    "one value per parameter and population" % (n, self.label))
            out[n] = float(vals.flat[0])
        return out

    def _describe(self):
        """This population as the API's population object."""
        d = {"name": self._server_name, "model": self.celltype.spiked_model, "size": self.size}
        # spike sources draw their trains from a stream that starts again with each
        # session, so a run after reset() repeats the one before it
        st = simulator.state
        self._rng = np.random.default_rng((st.seed if st.seed is not None else 12345,
                                           self._index))
        self._memo = {}
        if self._is_source():
            return d
        names = list(self._parameters.keys())
        if self._per_neuron_current():
            names.remove("I_e")
        d["params"] = self._scalar_params(names)
        if self._per_neuron_current():
            d["params"]["I_e"] = 0.0
        initial = {}
        for var, arr in self._initial.items():
            if var not in self.celltype.state_map:
                continue
            name, factor = self.celltype.state_map[var]
            a = np.asarray(arr, float) * factor
            initial[name] = float(a[0]) if np.all(a == a[0]) else [float(x) for x in a]
        if initial:
            d["initial"] = initial
        return d

    def _per_neuron_current(self):
        ie = self._parameters.get("I_e")
        return ie is not None and np.size(ie) > 1 and not np.all(ie == np.asarray(ie).flat[0])

    def _stimuli(self):
        """A per-neuron i_offset (which the API's scalar I_e cannot hold) as a `current`
        stimulus with one amplitude per neuron from step 0 (it acts one step later than
        I_e would: the models take I_stim of step s into step s + 1)."""
        if self._is_source() or not self._per_neuron_current():
            return []
        return [{"kind": "current", "target": self._server_name, "start_step": 0,
                 "amplitudes": [float(x) for x in self._parameters["I_e"]]}]

    def _initial_value(self, variable, index):
        """The PyNN initial value of `variable` for neuron `index` (for t = 0 samples)."""
        arr = self._initial.get(variable)
        if arr is None:
            return self.celltype.default_initial_values.get(variable, np.nan)
        return arr[index]

    def _source_inputs(self, step0, step1):
        """Forced spikes of a spike source for steps [step0, step1): the API's inputs.
        A spike at time T ms is forced in step ceil(T/dt) - 1, so its time reads back as
        T (spike times are (step + 1) * dt); times at or before step0 * dt are skipped."""
        if not self._is_source():
            return []
        dt = simulator.state.dt
        by_step = {}
        for i in range(self.size):
            ts = self.celltype.spike_times_in(self._parameters, i, step0 * dt, step1 * dt,
                                              self._rng, self._memo)
            for t in ts:
                s = int(np.ceil(t / dt - 1e-9)) - 1
                if step0 <= s < step1:
                    by_step.setdefault(s, set()).add(i)
        return [{"population": self._server_name, "kind": "spike", "step": s,
                 "neurons": sorted(by_step[s])} for s in sorted(by_step)]
