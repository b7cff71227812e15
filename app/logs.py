"""Structured logs: one JSON object per line, each request tagged with an id."""

from __future__ import annotations

import json
import logging
import sys
import time
import uuid

from flask import Flask, g, has_request_context, request


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if has_request_context() and "request_id" in g:
            entry["request_id"] = g.request_id
        for key in ("method", "path", "status", "duration_ms"):
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure(level: str = "INFO", fmt: str = "json") -> None:
    root = logging.getLogger()
    if getattr(root, "_ade_configured", False):
        return
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")
        )
    root.addHandler(handler)
    root.setLevel(level)
    root._ade_configured = True


def init_app(app: Flask) -> None:
    log = logging.getLogger("ade.request")

    @app.before_request
    def _start():
        incoming = request.headers.get("X-Request-Id", "")
        g.request_id = (
            incoming[:64] if incoming.isprintable() and incoming else (uuid.uuid4().hex)
        )
        g.started = time.perf_counter()

    @app.after_request
    def _finish(response):
        response.headers["X-Request-Id"] = g.get("request_id", "")
        duration = (time.perf_counter() - g.get("started", time.perf_counter())) * 1000
        log.info(
            "request",
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round(duration, 1),
            },
        )
        return response
