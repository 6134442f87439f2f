"""
spiked.pynn: a PyNN 0.10.1 backend on a spiked server (`import pyNN.spiked as sim` after
`python3 -m spiked.pynn install`). The network is described with PyNN's common code and
connectors, created on the server at the first run() (see simulator.py), and read back
into Neo blocks. What the HTTP API cannot express raises NotImplementedError naming it.
"""

import logging

from pyNN import common
from pyNN.common.control import DEFAULT_MAX_DELAY, DEFAULT_TIMESTEP, DEFAULT_MIN_DELAY
from pyNN.connectors import *  # noqa: F401,F403  (PyNN's connectors, as every backend)
from pyNN.recording import *  # noqa: F401,F403
from pyNN import space  # noqa: F401
from pyNN.random import NumpyRNG, RandomDistribution  # noqa: F401
from pyNN.space import Space  # noqa: F401
from pyNN.standardmodels import StandardCellType
from pyNN.recording import get_io  # makes the folder of the file, unlike neo.io.get_io

from . import simulator
from .standardmodels import *  # noqa: F401,F403
from .populations import Population, PopulationView, Assembly
from .projections import Projection

logger = logging.getLogger("PyNN")


def list_standard_models():
    """The StandardCellType classes this backend has."""
    return [obj.__name__ for obj in globals().values()
            if isinstance(obj, type) and issubclass(obj, StandardCellType)
            and hasattr(obj, "spiked_model")]


def setup(timestep=DEFAULT_TIMESTEP, min_delay=DEFAULT_MIN_DELAY, **extra_params):
    """PyNN's setup(); extra: url=, token= (else $SPIKED_URL / $SPIKED_TOKEN, else a
    private local server), rng_seed= (Poisson sources and the session's seed)."""
    max_delay = extra_params.get('max_delay', DEFAULT_MAX_DELAY)
    common.setup(timestep, min_delay, **extra_params)
    st = simulator.state
    st.clear()
    st.dt = timestep
    st.min_delay = timestep if min_delay == 'auto' else min_delay
    st.auto_min_delay = min_delay == 'auto'
    st.max_delay = max_delay
    st.seed = extra_params.get('rng_seed', extra_params.get('seed'))
    if st.client is None or 'url' in extra_params:
        st.connect(extra_params.get('url'), extra_params.get('token'))
    return rank()


def end(compatible_output=True):
    """Write data asked for with record(..., to_file), delete the session, stop a private
    server."""
    st = simulator.state
    for (population, variables, filename) in st.write_on_end:
        io = get_io(filename)
        population.write_data(io, variables)
    st.write_on_end = []
    # the data stay readable after end() (as with pyNN.nest): each recorder copies its
    # current segment into PyNN's cache before the session and server go away
    if st.running:
        for recorder in st.recorders:
            recorder.store_to_cache({})
        st.running = False
    st.disconnect()


run, run_until = common.build_run(simulator)
run_for = run
reset = common.build_reset(simulator)
initialize = common.initialize
get_current_time, get_time_step, get_min_delay, get_max_delay, \
    num_processes, rank = common.build_state_queries(simulator)
create = common.build_create(Population)
connect = common.build_connect(Projection, FixedProbabilityConnector, StaticSynapse)  # noqa: F405
record = common.build_record(simulator)


def record_v(source, filename):
    return record(['v'], source, filename)


def record_gsyn(source, filename):
    return record(['gsyn_exc', 'gsyn_inh'], source, filename)
