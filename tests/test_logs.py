"""SPEC §10: structured logs (one JSON object per line) and a request id on every
request."""

from __future__ import annotations

import io
import json
import logging

from app.logs import JsonFormatter


def test_every_request_carries_an_id(client):
    fresh = client.get("/healthz")
    assert len(fresh.headers["X-Request-Id"]) == 32
    assert (
        client.get("/healthz").headers["X-Request-Id"] != fresh.headers["X-Request-Id"]
    )
    given = client.get("/healthz", headers={"X-Request-Id": "lb-42"})
    assert given.headers["X-Request-Id"] == "lb-42"
    bad = client.get("/healthz", headers={"X-Request-Id": "a\x1bb"})
    assert len(bad.headers["X-Request-Id"]) == 32  # not printable: replaced


def test_request_log_is_one_json_object_with_the_request_id(client):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("ade.request")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        resp = client.get("/api/v1/workspaces", headers={"X-Request-Id": "rid-7"})
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    (line,) = stream.getvalue().splitlines()
    entry = json.loads(line)
    assert entry["request_id"] == "rid-7"
    assert (entry["method"], entry["path"], entry["status"]) == (
        "GET",
        "/api/v1/workspaces",
        resp.status_code,
    )
    assert {"ts", "level", "logger", "msg", "duration_ms"} <= set(entry)
