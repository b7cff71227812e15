"""A stateless worker's HTTP client for the API (stdlib only): JSON calls, a
streamed download, a streamed multipart upload. One connection per thread, kept
alive between calls."""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

CHUNK = 1024 * 1024
TIMEOUT = 60.0


class ApiError(Exception):
    """The API answered with an error status."""

    def __init__(self, status: int, body: bytes):
        detail = body[:500].decode(errors="replace")
        try:
            detail = json.loads(body).get("detail") or detail
        except (ValueError, AttributeError):
            pass
        super().__init__(f"{status}: {detail}")
        self.status = status


class ApiClient:
    def __init__(self, base_url: str, token: str, timeout: float = TIMEOUT):
        parts = urlsplit(base_url.rstrip("/"))
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(
                f"the API URL must be http(s)://host[:port], got {base_url!r}"
            )
        self.base_url = base_url.rstrip("/")
        self._parts, self._prefix = parts, parts.path
        self.token, self.timeout = token, timeout
        self._local = threading.local()

    def _connection(self, fresh: bool = False) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None or fresh:
            if conn is not None:
                conn.close()
            cls = (
                http.client.HTTPSConnection
                if self._parts.scheme == "https"
                else http.client.HTTPConnection
            )
            conn = cls(self._parts.hostname, self._parts.port, timeout=self.timeout)
            self._local.conn = conn
        return conn

    def _send(self, method: str, path: str, body=None, headers=None):
        """One request; a kept-alive connection the server closed meanwhile is
        reopened once. Returns the response (read it before the next call)."""
        headers = {"Authorization": f"Bearer {self.token}", **(headers or {})}
        for attempt in (0, 1):
            conn = self._connection(fresh=attempt == 1)
            try:
                conn.request(method, self._prefix + path, body=body, headers=headers)
                return conn.getresponse()
            except _STALE:
                self._drop()
                if attempt or not _replayable(body):
                    raise
                if hasattr(body, "seek"):
                    body.seek(0)
            except BaseException:
                self._drop()  # half a request on it: never reuse this connection
                raise
        raise AssertionError("unreachable")

    def _drop(self) -> None:
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            conn.close()

    def raw(
        self, method: str, path: str, body: bytes | None = None, headers=None
    ) -> bytes:
        """Any call; the body of a 2xx answer, ApiError otherwise."""
        resp = self._send(method, path, body, headers)
        data = resp.read()
        if resp.status >= 300:
            raise ApiError(resp.status, data)
        return data

    def json(self, method: str, path: str, payload: dict | None = None) -> dict:
        """A JSON call; ApiError for any status but 2xx."""
        body = None if payload is None else json.dumps(payload).encode()
        headers = {"Content-Type": "application/json"} if body is not None else {}
        resp = self._send(method, path, body, headers)
        data = resp.read()
        if resp.status >= 300:
            raise ApiError(resp.status, data)
        return json.loads(data) if data else {}

    def download(self, path: str, dest: Path, sha256: str | None = None) -> int:
        """Stream a GET to ``dest``; checks the bytes' sha256 when given."""
        resp = self._send("GET", path)
        if resp.status != 200:
            raise ApiError(resp.status, resp.read())
        digest, size = hashlib.sha256(), 0
        with open(dest, "wb") as out:
            while chunk := resp.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
        if sha256 is not None and digest.hexdigest() != sha256:
            dest.unlink(missing_ok=True)
            raise ApiError(502, b"the downloaded document does not match its sha256")
        return size

    def multipart(
        self, path: str, fields: dict[str, str], files: dict[str, Path]
    ) -> dict:
        """POST multipart/form-data, the files streamed from disk."""
        body = _Multipart(fields, files)
        headers = {
            "Content-Type": f"multipart/form-data; boundary={body.boundary}",
            "Content-Length": str(body.length),
        }
        resp = self._send("POST", path, body, headers)
        data = resp.read()
        if resp.status >= 300:
            raise ApiError(resp.status, data)
        return json.loads(data) if data else {}


# A kept-alive connection the server closed since the last call.
_STALE = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError)


def _replayable(body) -> bool:
    return body is None or isinstance(body, bytes) or hasattr(body, "seek")


class _Multipart:
    """A multipart body read piece by piece (http.client iterates it), with its
    length known up front, so large outputs never sit in memory."""

    def __init__(self, fields: dict[str, str], files: dict[str, Path]):
        self.boundary = uuid.uuid4().hex
        self.parts: list[bytes | Path] = []
        for name, value in fields.items():
            self.parts.append(self._head(name) + value.encode() + b"\r\n")
        for name, path in files.items():
            head = self._head(name, path.name)
            self.parts += [head, path, b"\r\n"]
        self.parts.append(f"--{self.boundary}--\r\n".encode())
        self.length = sum(
            len(p) if isinstance(p, bytes) else os.path.getsize(p) for p in self.parts
        )

    def _head(self, name: str, filename: str | None = None) -> bytes:
        disposition = f'form-data; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
            kind = "Content-Type: application/octet-stream\r\n"
        else:
            kind = "Content-Type: text/plain; charset=utf-8\r\n"
        return (
            f"--{self.boundary}\r\nContent-Disposition: {disposition}\r\n{kind}\r\n"
        ).encode()

    def __iter__(self) -> Iterator[bytes]:
        for part in self.parts:
            if isinstance(part, bytes):
                yield part
                continue
            with open(part, "rb") as fh:
                while chunk := fh.read(CHUNK):
                    yield chunk

    def seek(self, _offset: int) -> None:
        """Iterating again starts over (a retried request)."""
