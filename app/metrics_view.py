"""``GET /metrics`` (Prometheus text format) and the per-request counters.

Readable with an instance-admin or a worker token. Every request is counted by
endpoint (Flask's endpoint name: a bounded set), method and status.
"""

from __future__ import annotations

import time

from flask import Blueprint, Flask, Response, current_app, g, request

from app import metrics
from app.auth import current_principal
from app.db import get_session
from app.services.errors import NotPermitted

bp = Blueprint("metrics", __name__)


@bp.get("/metrics")
def scrape():
    """Prometheus metrics (instance-admin or worker token)."""
    principal = current_principal()
    if not (principal.is_instance_admin or principal.is_worker):
        raise NotPermitted("Metrics need an instance-admin or a worker token.")
    gauges = metrics.JobGauges(
        get_session(), current_app.config["JOB_HEARTBEAT_TIMEOUT"]
    )
    return Response(metrics.exposition(gauges), content_type=metrics.CONTENT_TYPE)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)

    @app.before_request
    def _start_clock():
        g.metrics_started = time.monotonic()

    @app.after_request
    def _count(response):
        started = g.pop("metrics_started", None)
        if started is not None:
            endpoint = request.endpoint or "unmatched"
            metrics.observe_request(
                endpoint,
                request.method,
                response.status_code,
                time.monotonic() - started,
            )
        return response
