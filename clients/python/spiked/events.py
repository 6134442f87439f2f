"""events.py: a Server-Sent Events reader for /v1/sessions/{name}/events.

EventStream is an iterator of Event(type, id, data): `hello` first, then `spikes` batches
(id = the batch's to_step), `progress` (a job), `lifecycle` and `dropped` ({count,
from_step, to_step}: the steps whose spikes this reader will not get: it read so slowly that
they left the server's spike history). When the connection drops it reconnects, after the
server's `retry` delay (or retry_s), sending Last-Event-ID so that spike batches continue
from the last one received (replayed from the server's spike history). A `lifecycle` event
`deleted` ends the iteration. close() may be called from another thread.
"""
import http.client
import json
import threading
from collections import namedtuple

from .errors import SpikedConnectionError, SpikedError

Event = namedtuple("Event", "type id data")
Event.__doc__ = "One event: type ('spikes', 'hello', ...), id (str or None), data (decoded JSON)."


def parse_lines(lines):
    """SSE framing (WHATWG): yields (type, id, data text, retry ms) per dispatched event,
    from an iterable of decoded lines without their line ends. id is None when the event
    had no id field; retry is None unless a retry field came with it."""
    etype, eid, data, retry = "", None, [], None
    for line in lines:
        if line == "":
            if data:
                yield etype or "message", eid, "\n".join(data), retry
            elif retry is not None:
                yield None, None, None, retry
            etype, eid, data, retry = "", None, [], None
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if field == "event":
            etype = value
        elif field == "data":
            data.append(value)
        elif field == "id" and "\0" not in value:
            eid = value
        elif field == "retry" and value.isdigit():
            retry = int(value)


class EventStream:
    """Iterator over a session's events; see the module comment. Attributes:
    last_event_id (sent on reconnection), reconnects (how many so far)."""

    def __init__(self, client, path, population=None, last_event_id=None, reconnect=True,
                 retry_s=None, max_retries=10, read_timeout=60.0):
        self.client = client
        self.path = path
        self.population = population
        self.last_event_id = None if last_event_id is None else str(last_event_id)
        self.reconnect = reconnect
        self.retry_s = retry_s
        self.max_retries = max_retries
        self.read_timeout = read_timeout
        self.reconnects = 0
        self._server_retry_s = 2.0
        self._conn = None
        self._closed = threading.Event()
        self._gen = self._events()

    def __iter__(self):
        return self

    def __next__(self):
        return next(self._gen)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        """Stops the stream; a blocked next() returns StopIteration soon after."""
        self._closed.set()
        conn = self._conn
        if conn is not None and conn.sock is not None:
            try:
                conn.sock.shutdown(2)
            except OSError:
                pass

    def _open(self):
        """Connects; returns the response, or raises SpikedError for an HTTP error."""
        conn = self.client.connect(self.read_timeout)
        headers = self.client.headers({"Accept": "text/event-stream"})
        if self.last_event_id is not None:
            headers["Last-Event-ID"] = self.last_event_id
        q = {"population": self.population}
        conn.request("GET", self.client.target(self.path, q), headers=headers)
        resp = conn.getresponse()
        if resp.status != 200:
            raw = resp.read()
            conn.close()
            raise SpikedError.from_response(resp.status, raw, resp.reason)
        self._conn = conn
        return resp

    def _lines(self, resp):
        while not self._closed.is_set():
            raw = resp.readline()
            if not raw:
                return
            yield raw.decode("utf-8", "replace").rstrip("\r\n")

    def _events(self):
        failures = 0
        while not self._closed.is_set():
            try:
                resp = self._open()
                failures = 0
                for etype, eid, text, retry in parse_lines(self._lines(resp)):
                    if retry is not None:
                        self._server_retry_s = retry / 1000.0
                    if etype is None:
                        continue
                    if eid is not None:
                        self.last_event_id = eid
                    try:
                        data = json.loads(text)
                    except ValueError:
                        data = text
                    yield Event(etype, eid, data)
                    if etype == "lifecycle" and isinstance(data, dict) \
                            and data.get("event") == "deleted":
                        return
            except SpikedError as e:
                # 5xx and 429 may pass; anything else (404: session gone, 401) is final.
                if not (e.status in (429, 502, 503, 504) and self.reconnect):
                    raise
                failures += 1
            except (OSError, http.client.HTTPException) as e:
                if self._closed.is_set():
                    return
                if not self.reconnect:
                    raise SpikedConnectionError(f"event stream lost: {e}") from e
                failures += 1
            finally:
                if self._conn is not None:
                    self._conn.close()
                    self._conn = None
            if self._closed.is_set() or not self.reconnect:
                return
            if self.max_retries is not None and failures > self.max_retries:
                raise SpikedConnectionError(
                    f"event stream: {self.client.url} unreachable after {failures} tries")
            self.reconnects += 1
            delay = self._server_retry_s if self.retry_s is None else self.retry_s
            self._closed.wait(delay)
