"""
spiked.pynn.standardmodels: PyNN's standard cells, synapse and electrodes on spiked's
NEST models (docs/models.md), with the translations of tests/conformance/golden-nest/
README.md ("PyNN 0.10.1 to NEST mapping"): nF -> pF and nA -> pA x1000, tau_m -> g_L.

Each cell class carries `spiked_model` (the server's model name) and `state_map`
(PyNN state variable -> (server state name, factor): server value = PyNN value x factor).
DCSource and StepCurrentSource are `current` / `step_current` stimuli created with the
session; the API cannot change a stimulus, so a change after the first run() is sent as
per-step `current` inputs of the difference with each later run. ACSource and NoisyCurrentSource, which the API
has no stimulus for, are sent as per-step `current` inputs with each run.
"""

import numpy as np
from pyNN.standardmodels import cells, synapses, electrodes, build_translations, \
    StandardCurrentSource
from pyNN.parameters import ParameterSpace, Sequence

from .simulator import state

_IF_BASE = (
    ('v_rest', 'E_L'),
    ('v_reset', 'V_reset'),
    ('cm', 'C_m', 1000.0),
    ('tau_refrac', 't_ref'),
    ('tau_syn_E', 'tau_syn_ex'),
    ('tau_syn_I', 'tau_syn_in'),
    ('v_thresh', 'V_th'),
    ('i_offset', 'I_e', 1000.0),
)
_G_L = ('tau_m', 'g_L', "cm/tau_m*1000.0", "C_m/g_L")
_COND_STATE = {'v': ('V_m', 1.0), 'gsyn_exc': ('g_ex', 1000.0), 'gsyn_inh': ('g_in', 1000.0)}


class IF_curr_exp(cells.IF_curr_exp):
    __doc__ = cells.IF_curr_exp.__doc__
    translations = build_translations(('tau_m', 'tau_m'), *_IF_BASE)
    spiked_model = "iaf_psc_exp"
    state_map = {'v': ('V_m', 1.0)}
    conductance = False


class IF_curr_alpha(cells.IF_curr_alpha):
    __doc__ = cells.IF_curr_alpha.__doc__
    translations = build_translations(('tau_m', 'tau_m'), *_IF_BASE)
    spiked_model = "iaf_psc_alpha"
    state_map = {'v': ('V_m', 1.0)}
    conductance = False


class IF_cond_exp(cells.IF_cond_exp):
    __doc__ = cells.IF_cond_exp.__doc__
    translations = build_translations(_G_L, *_IF_BASE, ('e_rev_E', 'E_ex'), ('e_rev_I', 'E_in'))
    spiked_model = "iaf_cond_exp"
    state_map = _COND_STATE
    conductance = True


class IF_cond_alpha(cells.IF_cond_alpha):
    __doc__ = cells.IF_cond_alpha.__doc__
    translations = build_translations(_G_L, *_IF_BASE, ('e_rev_E', 'E_ex'), ('e_rev_I', 'E_in'))
    spiked_model = "iaf_cond_alpha"
    state_map = _COND_STATE
    conductance = True


class EIF_cond_exp_isfa_ista(cells.EIF_cond_exp_isfa_ista):
    __doc__ = cells.EIF_cond_exp_isfa_ista.__doc__
    translations = build_translations(
        ('cm', 'C_m', 1000.0),
        ('tau_refrac', 't_ref'),
        ('v_spike', 'V_peak'),
        ('v_reset', 'V_reset'),
        ('v_rest', 'E_L'),
        _G_L,
        ('i_offset', 'I_e', 1000.0),
        ('a', 'a'),
        ('b', 'b', 1000.0),
        ('delta_T', 'Delta_T'),
        ('tau_w', 'tau_w'),
        ('v_thresh', 'V_th'),
        ('e_rev_E', 'E_ex'),
        ('tau_syn_E', 'tau_syn_ex'),
        ('e_rev_I', 'E_in'),
        ('tau_syn_I', 'tau_syn_in'),
    )
    spiked_model = "aeif_cond_exp"
    state_map = dict(_COND_STATE, w=('w', 1000.0))
    conductance = True


class Izhikevich(cells.Izhikevich):
    __doc__ = cells.Izhikevich.__doc__
    translations = build_translations(
        ('a', 'a'), ('b', 'b'), ('c', 'c'), ('d', 'd'), ('i_offset', 'I_e', 1000.0))
    spiked_model = "izhikevich"
    state_map = {'v': ('V_m', 1.0), 'u': ('U_m', 1.0)}
    conductance = False
    # NEST's receptor scale 1e-3 on a weight in pA (x1000): the PyNN weight is used as mV
    weight_factor = 1.0


class SpikeSourceArray(cells.SpikeSourceArray):
    __doc__ = cells.SpikeSourceArray.__doc__
    translations = build_translations(('spike_times', 'spike_times'))
    spiked_model = "spike_source"
    state_map = {}

    def spike_times_in(self, params, i, t0, t1, rng, memo):
        """Spike times of neuron i in (t0, t1] ms."""
        times = params['spike_times'][i]
        times = np.asarray(getattr(times, "value", times), float).ravel()
        return times[(times > t0) & (times <= t1)]


class SpikeSourcePoisson(cells.SpikeSourcePoisson):
    __doc__ = cells.SpikeSourcePoisson.__doc__
    translations = build_translations(('start', 'start'), ('rate', 'rate'), ('duration', 'duration'))
    spiked_model = "spike_source"
    state_map = {}

    def spike_times_in(self, params, i, t0, t1, rng, memo):
        """A Poisson train of rate Hz in (t0, t1] clipped to [start, start + duration)."""
        lo = max(t0, params['start'][i])
        hi = min(t1, params['start'][i] + params['duration'][i])
        rate = params['rate'][i]
        if hi <= lo or rate <= 0:
            return np.empty(0)
        n = rng.poisson(rate * (hi - lo) / 1000.0)
        return np.sort(rng.uniform(lo, hi, n))


def _renewal(params, i, t0, t1, memo, draw):
    """Times in (t0, t1] of a renewal train that starts at start and lasts duration; the
    first time past t1 is kept in memo[i] for the next run."""
    start = params['start'][i]
    end = start + params['duration'][i]
    nxt = memo.get(i)
    if nxt is None:
        nxt = start + draw()
    out = []
    while nxt <= t1 and nxt < end:
        out.append(nxt)
        nxt += draw()
    memo[i] = nxt
    return np.array([t for t in out if t > t0])


class SpikeSourceGamma(cells.SpikeSourceGamma):
    __doc__ = cells.SpikeSourceGamma.__doc__
    translations = build_translations(('alpha', 'alpha'), ('beta', 'beta'),
                                      ('start', 'start'), ('duration', 'duration'))
    spiked_model = "spike_source"
    state_map = {}

    def spike_times_in(self, params, i, t0, t1, rng, memo):
        """Gamma(alpha, 1/beta) intervals (beta in Hz, so the rate is beta/alpha)."""
        a, b = params['alpha'][i], params['beta'][i]
        if b <= 0:
            return np.empty(0)
        return _renewal(params, i, t0, t1, memo, lambda: rng.gamma(a, 1000.0 / b))


class SpikeSourcePoissonRefractory(cells.SpikeSourcePoissonRefractory):
    __doc__ = cells.SpikeSourcePoissonRefractory.__doc__
    translations = build_translations(('rate', 'rate'), ('tau_refrac', 'tau_refrac'),
                                      ('start', 'start'), ('duration', 'duration'))
    spiked_model = "spike_source"
    state_map = {}

    def spike_times_in(self, params, i, t0, t1, rng, memo):
        """Intervals tau_refrac + Exponential: mean interval 1000/rate ms in all."""
        r, tr = params['rate'][i], params['tau_refrac'][i]
        if r <= 0:
            return np.empty(0)
        mean = max(1000.0 / r - tr, 1e-9)
        return _renewal(params, i, t0, t1, memo, lambda: tr + rng.exponential(mean))


class StaticSynapse(synapses.StaticSynapse):
    __doc__ = synapses.StaticSynapse.__doc__
    translations = build_translations(('weight', 'weight'), ('delay', 'delay'))

    def _get_minimum_delay(self):
        d = state.min_delay
        return state.dt if d == 'auto' else d


class _Electrode(StandardCurrentSource):
    """Keeps its native parameters and the cells it feeds; described at session creation."""

    def __init__(self, **parameters):
        object.__setattr__(self, "_native", {})
        object.__setattr__(self, "_targets", [])
        StandardCurrentSource.__init__(self, **parameters)
        ps = self.parameter_space
        ps.shape = (1,)
        self.set_native_parameters(self.translate(ps))
        state.current_sources.append(self)

    def set_native_parameters(self, parameters):
        parameters.evaluate(simplify=True)
        for k, v in parameters.items():
            if isinstance(v, Sequence):
                v = np.asarray(v.value, float)
            elif isinstance(v, np.ndarray) and v.dtype == object and v.size == 1:
                v = np.asarray(getattr(v.flat[0], "value", v.flat[0]), float)
            self._native[k] = v

    def get_native_parameters(self):
        return ParameterSpace(dict(self._native), self.get_schema(), (1,))

    def get_parameters(self):
        """PyNN-unit parameters as plain numbers and arrays (times, amplitudes)."""
        ps = self.reverse_translate(self.get_native_parameters())
        ps.evaluate(simplify=True)
        out = {}
        for k, v in ps.items():
            if isinstance(v, Sequence):
                v = np.asarray(v.value, float)
            elif isinstance(v, np.ndarray) and v.dtype == object and v.size == 1:
                v = np.asarray(getattr(v.flat[0], "value", v.flat[0]), float)
            out[k] = v
        return out

    def record(self):
        """Record this electrode's current. The API records neuron state only (a cell's
        I_stim sums every electrode into it), so this is the current the backend has put
        on the server for each step run since (the stimulus' schedule, or the inputs it
        sent), not a value read back from the server."""
        object.__setattr__(self, "_recorded", [])

    def _record_steps(self, step0, step1):
        rec = self.__dict__.get("_recorded")
        if rec is not None:
            rec.extend((s, self._value_at_step(self._native, s)) for s in range(step0, step1))

    def _get_data(self):
        """(times, nA): 0 at t = 0, then the current of step s at (s + 1) * dt."""
        rec = self.__dict__.get("_recorded") or []
        t = np.array([0.0] + [(s + 1) * state.dt for s, _ in rec])
        i = np.array([0.0] + [v for _, v in rec])
        return t, i

    def inject_into(self, cells):
        if state.session is not None:
            raise NotImplementedError(
                "spiked: adding an electrode after the first run() (call reset() first)")
        for c in cells:
            if not c.celltype.injectable:
                raise TypeError("Can't inject current into a spike source.")
        groups = {}
        for c in cells:
            groups.setdefault(id(c.parent), (c.parent, []))[1].append(c.parent.id_to_index(c))
        for parent, idx in groups.values():
            self._targets.append((parent, sorted(set(int(i) for i in idx))))

    def _inputs(self, step0, step1):
        """The API cannot change a stimulus between runs: when the parameters changed
        since the session was created, each later run also gets `current` inputs of the
        difference (new minus created) for every step where it is not zero; currents add,
        so the neurons get the new values."""
        created = self.__dict__.get("_created")
        if created is None or not self._targets:
            return []
        out = []
        for s in range(step0, step1):
            diff = self._value_at_step(self._native, s) - self._value_at_step(created, s)
            if diff != 0.0:
                for parent, idx in self._targets:
                    out.append({"population": parent._server_name, "kind": "current",
                                "neurons": idx, "value": diff * 1000.0, "step": s})
        return out

    def _snapshot(self):
        self._created = {k: np.array(v, copy=True) for k, v in self._native.items()}

    def _step(self, t):
        """The step from which a current switched at t ms acts: round(t/dt) - 1, as
        pyNN.nest moves its generators one dt earlier, so V(t + dt) already feels it
        (the models take I_stim of step s into step s + 1)."""
        return max(0, int(round(float(t) / state.dt)) - 1)


class DCSource(_Electrode, electrodes.DCSource):
    __doc__ = electrodes.DCSource.__doc__
    translations = build_translations(('amplitude', 'amplitude'), ('start', 'start'), ('stop', 'stop'))

    def _window(self, p):
        """[start_step, stop_step) of the stimulus (stop_step 0: never stops)."""
        start = self._step(p['start'])
        stop = p['stop']
        stop = 0 if stop is None or float(stop) > 1e9 else self._step(stop)
        return start, stop

    def _value_at_step(self, p, s):
        start, stop = self._window(p)
        if s < start or (stop and s >= stop) or (stop and stop <= start):
            return 0.0
        return float(p['amplitude'])

    def _describe(self):
        self._snapshot()
        out = []
        start, stop = self._window(self._native)
        if stop and stop <= start:
            return out
        for parent, idx in self._targets:
            d = {"kind": "current", "target": parent._server_name,
                 "amplitude": float(self._native['amplitude']) * 1000.0,
                 "start_step": start, "neurons": idx}
            if stop:
                d["stop_step"] = stop
            out.append(d)
        return out


class StepCurrentSource(_Electrode, electrodes.StepCurrentSource):
    __doc__ = electrodes.StepCurrentSource.__doc__
    translations = build_translations(('amplitudes', 'amplitudes'), ('times', 'times'))

    def set_native_parameters(self, parameters):
        """Times must be >= 0 and increasing (ValueError); they are moved to the time
        grid (multiples of dt) and, where several fall on one grid time, the last
        amplitude is kept, so times and amplitudes read back as the server uses them."""
        _Electrode.set_native_parameters(self, parameters)
        t = np.asarray(self._native.get('times', []), float).ravel()
        a = np.asarray(self._native.get('amplitudes', []), float).ravel()
        if np.any(t < 0):
            raise ValueError("StepCurrentSource: negative times")
        if np.any(np.diff(t) < 0):
            raise ValueError("StepCurrentSource: times must increase")
        if t.size != a.size:
            raise ValueError("StepCurrentSource: times and amplitudes differ in length")
        grid = np.rint(t / state.dt) * state.dt
        keep = np.ones(grid.size, bool)
        keep[:-1] = ~np.isclose(grid[:-1], grid[1:])
        self._native['times'] = grid[keep]
        self._native['amplitudes'] = a[keep]

    def _steps(self, p):
        """(steps, amplitudes) of the stimulus: times moved to their steps, the last
        amplitude kept where several share one."""
        times = np.asarray(p.get('times', []), float).ravel()
        amps = np.asarray(p.get('amplitudes', []), float).ravel()
        merged = {}
        for t, a in zip(times, amps):
            merged[self._step(t)] = float(a)
        ks = sorted(merged)
        return ks, [merged[k] for k in ks]

    def _value_at_step(self, p, s):
        ks, amps = self._steps(p)
        value = 0.0
        for k, a in zip(ks, amps):
            if k <= s:
                value = a
        return value

    def _describe(self):
        self._snapshot()
        ks, amps = self._steps(self._native)
        if not ks:
            return []
        return [{"kind": "step_current", "target": parent._server_name, "times": ks,
                 "amplitudes": [a * 1000.0 for a in amps], "neurons": idx}
                for parent, idx in self._targets]


class _SampledElectrode(_Electrode):
    """An electrode whose current the API has no stimulus for (sine, noise): its value
    for each step of a run is sent with that run's step request as `current` inputs
    (one record per step and target population), computed from PyNN's formula on the
    time grid: step s carries the current of time (s + 1) * dt, as the DC timing above.
    Its parameters may change between runs: the next run sends the new values."""

    def _value_at_step(self, p, s):
        t = (s + 1) * state.dt
        if t < float(p['start']) - 1e-9 or t >= float(p['stop']) - 1e-9:
            return 0.0
        return self._value(t)

    def _describe(self):
        self._rng = np.random.default_rng((12345 if state.seed is None else state.seed,
                                           state.current_sources.index(self)))
        self._memo = {}
        return []

    def _inputs(self, step0, step1):
        out = []
        for s in range(step0, step1):
            value = self._value_at_step(self._native, s) * 1000.0
            if value == 0.0:
                continue
            for parent, idx in self._targets:
                out.append({"population": parent._server_name, "kind": "current",
                            "neurons": idx, "value": value, "step": s})
        return out


class ACSource(_SampledElectrode, electrodes.ACSource):
    __doc__ = electrodes.ACSource.__doc__
    translations = build_translations(
        ('amplitude', 'amplitude'), ('start', 'start'), ('stop', 'stop'),
        ('frequency', 'frequency'), ('offset', 'offset'), ('phase', 'phase'))

    def _value(self, t):
        p = self._native
        return float(p['offset']) + float(p['amplitude']) * np.sin(
            2 * np.pi * float(p['frequency']) * (t - float(p['start'])) / 1000.0
            + np.deg2rad(float(p['phase'])))


class NoisyCurrentSource(_SampledElectrode, electrodes.NoisyCurrentSource):
    __doc__ = electrodes.NoisyCurrentSource.__doc__
    translations = build_translations(
        ('mean', 'mean'), ('start', 'start'), ('stop', 'stop'), ('stdev', 'stdev'), ('dt', 'dt'))

    def _value(self, t):
        p = self._native
        k = int(np.floor((t - float(p['start'])) / float(p['dt']) + 1e-9))
        if k not in self._memo:
            self._memo[k] = self._rng.standard_normal()
        return float(p['mean']) + float(p['stdev']) * self._memo[k]
