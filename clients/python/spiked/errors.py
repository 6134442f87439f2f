"""errors.py: the exceptions of the spiked client.

Every error the server answers is `{"error": {"status", "code", "path", "message"}}`; it
becomes a SpikedError carrying those four fields. A server that cannot be reached, or that
answers something that is not the API's JSON, raises SpikedConnectionError (a SpikedError
whose status is None and whose code is "connection" or "bad_response").
"""


class SpikedError(Exception):
    """An error answered by the server (or a transport failure, see SpikedConnectionError).

    status   HTTP status (int), None when no HTTP answer was read
    code     machine-readable code: not_found, invalid_field, conflict, unauthorized, ...
    path     the offending field ("network.populations[0].size", "query.neurons") or ""
    message  human-readable text from the server
    body     the whole decoded error body (dict) when there was one
    """

    def __init__(self, status, code, path, message, body=None):
        self.status = status
        self.code = code
        self.path = path or ""
        self.message = message
        self.body = body
        super().__init__(str(self))

    def __str__(self):
        head = f"{self.status} {self.code}" if self.status is not None else self.code
        where = f" at {self.path}" if self.path else ""
        return f"{head}{where}: {self.message}"

    @classmethod
    def from_response(cls, status, raw, reason=""):
        """Builds the error from a response body; tolerates bodies that are not the API's."""
        import json

        try:
            body = json.loads(raw.decode("utf-8")) if raw else None
        except (UnicodeDecodeError, ValueError):
            body = None
        err = body.get("error") if isinstance(body, dict) else None
        if isinstance(err, dict):
            return cls(err.get("status", status), err.get("code", "unknown"),
                       err.get("path", ""), err.get("message", reason), body)
        text = raw[:200].decode("utf-8", "replace").strip() if raw else reason
        return cls(status, "http_error", "", text or f"HTTP {status}", body)


class SpikedConnectionError(SpikedError):
    """The server could not be reached, or its answer could not be read."""

    def __init__(self, message, code="connection"):
        super().__init__(None, code, "", message)
