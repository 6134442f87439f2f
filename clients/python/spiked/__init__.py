"""spiked: Python client of the spiked simulation server (standard library only; numpy
optional). Client is a server, Session a named network on it, EventStream its live events,
SpikedError what the server answered when it said no."""
from .client import Client, Session, TruncatedHistoryWarning, spike_times_ms, spikes_to_numpy
from .errors import SpikedConnectionError, SpikedError
from .events import Event, EventStream

__version__ = "0.1.0"
__all__ = ["Client", "Session", "EventStream", "Event", "SpikedError", "SpikedConnectionError",
           "TruncatedHistoryWarning", "spike_times_ms", "spikes_to_numpy"]
