"""
spiked.pynn.projections: Projection on PyNN's connectors (_convergent_connect).

Connections are kept in the client in float64 (pre, post, weight in PyNN units, delay in
ms): 8 bytes per number, 32 bytes per connection, so get() returns weights and delays
exactly as set (0.0123 nA reads back 0.0123). At session creation they become one
`explicit` projection: weights x1000 (nA -> pA, uS -> nS; Izhikevich: unchanged), with
inhibitory connections onto conductance-based cells negated so the server's sign split
sends them to the `in` channel (as pyNN.nest does), delays rounded to whole steps.
Changing weights or delays after the first run() raises NotImplementedError (the API
cannot change synapses of a session); after reset() it works.
"""

import numpy as np
from pyNN import common
from pyNN.space import Space

from . import simulator


class Connection(common.Connection):
    """One connection, a view into its projection's arrays."""

    def __init__(self, projection, k):
        self.projection = projection
        self.k = k

    @property
    def presynaptic_index(self):
        return int(self.projection._pre[self.k])

    @property
    def postsynaptic_index(self):
        return int(self.projection._post[self.k])

    def __setattr__(self, name, value):
        if name in ("projection", "k"):
            object.__setattr__(self, name, value)
            return
        if simulator.state.session is not None:
            raise NotImplementedError(
                "spiked: changing a connection after the first run() (call reset() first)")
        self.projection._attr[name][self.k] = float(value)

    def __getattr__(self, name):
        attr = self.__dict__["projection"]._attr
        if name in attr:
            return float(attr[name][self.__dict__["k"]])
        raise AttributeError(name)

    def as_tuple(self, *names):
        out = []
        for n in names:
            if n == "presynaptic_index":
                out.append(self.presynaptic_index)
            elif n == "postsynaptic_index":
                out.append(self.postsynaptic_index)
            else:
                out.append(float(self.projection._attr[n][self.k]))
        return tuple(out)


class Projection(common.Projection):
    __doc__ = common.Projection.__doc__
    _simulator = simulator
    from .standardmodels import StaticSynapse as _static_synapse_class

    def __init__(self, presynaptic_population, postsynaptic_population, connector,
                 synapse_type=None, source=None, receptor_type=None, space=Space(), label=None):
        if simulator.state.session is not None:
            raise NotImplementedError(
                "spiked: creating a projection after the first run() (call reset() first)")
        common.Projection.__init__(self, presynaptic_population, postsynaptic_population,
                                   connector, synapse_type, source, receptor_type, space, label)
        self._pre_chunks, self._post_chunks, self._attr_chunks = [], [], {}
        self._pre = np.zeros(0, np.int64)
        self._post = np.zeros(0, np.int64)
        self._attr = {}
        connector.connect(self)
        self._finish()
        simulator.state.projections.append(self)

    def _convergent_connect(self, presynaptic_indices, postsynaptic_index, **params):
        pre = np.asarray(presynaptic_indices, np.int64).ravel()
        n = pre.size
        self._pre_chunks.append(pre)
        self._post_chunks.append(np.full(n, int(postsynaptic_index), np.int64))
        for k, v in params.items():
            self._attr_chunks.setdefault(k, []).append(
                np.broadcast_to(np.asarray(v, float).ravel() if np.ndim(v) else float(v),
                                (n,)).astype(float))

    def _finish(self):
        if self._pre_chunks:
            self._pre = np.concatenate([self._pre] + self._pre_chunks)
            self._post = np.concatenate([self._post] + self._post_chunks)
            for k, chunks in self._attr_chunks.items():
                self._attr[k] = np.concatenate([self._attr.get(k, np.zeros(0))] + chunks)
        self._pre_chunks, self._post_chunks, self._attr_chunks = [], [], {}

    def __len__(self):
        return int(self._pre.size)

    @property
    def connections(self):
        return [Connection(self, k) for k in range(len(self))]

    def __getitem__(self, i):
        return Connection(self, i)

    def _get_attributes_as_list(self, names):
        cols = []
        for n in names:
            if n == "presynaptic_index":
                cols.append(self._pre)
            elif n == "postsynaptic_index":
                cols.append(self._post)
            else:
                cols.append(self._attr[n])
        return [tuple(x.item() for x in row) for row in zip(*cols)]

    def _get_attributes_as_arrays(self, names, multiple_synapses='sum'):
        out = []
        for n in names:
            a = np.full((self.pre.size, self.post.size), np.nan)
            vals = self._attr[n]
            if multiple_synapses == 'last':
                a[self._pre, self._post] = vals
            else:
                reduce_ = {'sum': np.add, 'min': np.fmin, 'max': np.fmax}[multiple_synapses]
                seen = np.zeros_like(a, bool)
                for i, j, v in zip(self._pre, self._post, vals):
                    a[i, j] = reduce_(a[i, j], v) if seen[i, j] else v
                    seen[i, j] = True
            out.append(a)
        return out

    def _set_attributes(self, parameter_space):
        if simulator.state.session is not None:
            raise NotImplementedError(
                "spiked: changing weights or delays after the first run() (the API cannot "
                "change a session's synapses; call reset() first)")
        parameter_space.evaluate(mask=(slice(None), slice(None)))
        for name, value in parameter_space.items():
            full = np.asarray(value, float)
            if full.ndim == 2:
                new = full[self._pre, self._post]
            else:
                new = np.broadcast_to(full, self._pre.shape)
            keep = ~np.isnan(new)
            self._attr[name] = np.where(keep, new, self._attr[name])

    def _set_initial_value_array(self, variable, value):
        raise NotImplementedError("spiked: synapse state variables (no plasticity yet)")

    def _describe(self):
        """This projection as the API's explicit projections, one per pair of server
        populations it joins (an Assembly spans several); [] when empty."""
        if len(self) == 0:
            return []
        dt = simulator.state.dt
        pre_roots, pre_idx = self._roots(self.pre, self._pre)
        post_roots, post_idx = self._roots(self.post, self._post)
        delays = np.maximum(1, np.rint(self._attr["delay"] / dt).astype(np.int64))
        out = []
        pairs = {}
        for k, (a, b) in enumerate(zip(pre_roots, post_roots)):
            pairs.setdefault((a, b), []).append(k)
        pops = simulator.state.populations
        for (a, b), ks in sorted(pairs.items()):
            ks = np.asarray(ks)
            ct = pops[b].celltype
            w = self._attr["weight"][ks] * getattr(ct, "weight_factor", 1000.0)
            if getattr(ct, "conductance", False):
                w = np.abs(w)
                if self.receptor_type == "inhibitory":
                    w = -w
            elif self.receptor_type == "inhibitory":
                w = -np.abs(w)
            out.append({"source": pops[a]._server_name, "target": pops[b]._server_name,
                        "rule": {"kind": "explicit",
                                 "pre": [int(x) for x in pre_idx[ks]],
                                 "post": [int(x) for x in post_idx[ks]],
                                 "weights": [float(x) for x in w],
                                 "delays": [int(x) for x in delays[ks]]}})
        return out

    @staticmethod
    def _roots(p, idx):
        """Indices into p (a Population, view or Assembly) -> (index of the root
        population in state.populations, index in it), as two arrays."""
        ids = p.all_cells[idx] if not isinstance(p, common.Assembly) else \
            np.array(p.all_cells)[idx]
        pops = simulator.state.populations
        pos = {id(q): n for n, q in enumerate(pops)}
        roots = np.array([pos[id(c.parent)] for c in ids], np.int64)
        local = np.array([int(c) - int(c.parent.first_id) for c in ids], np.int64)
        return roots, local
