"""Every translation of an error to HTTP lives here (problem+json for the API).

Services raise ``app.services.errors`` (no HTTP in them); ``repos`` raises its own
tree; the edge (views, the git endpoint) raises the few ``HttpError`` classes below.
All are mapped to a status once, here, so views carry no try/except ladders.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, json, request
from werkzeug.exceptions import HTTPException

import app.services.errors as service_errors
import repos.errors as repo_errors
from app.schemas.problem import RETRY_AFTER_SECONDS

log = logging.getLogger(__name__)


class HttpError(Exception):
    """An error only the HTTP edge can have (a missing header, a body the wire
    cannot take); services raise ``app.services.errors`` instead."""

    status = 400
    title = "Bad Request"

    def __init__(self, detail: str, **extra):
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class BadRequest(HttpError):
    status, title = 400, "Bad Request"


class PayloadTooLarge(HttpError):
    status, title = 413, "Payload Too Large"


class UnsupportedMediaType(HttpError):
    status, title = 415, "Unsupported Media Type"


class PreconditionRequired(HttpError):
    status, title = 428, "Precondition Required"


# Each service error's status and title (``Invalid`` with ``errors`` is a
# "Validation Failed"); the first matching class wins.
SERVICE_STATUS: list[tuple[type[service_errors.ServiceError], int, str]] = [
    (service_errors.Invalid, 400, "Bad Request"),
    (service_errors.Unauthenticated, 401, "Unauthorized"),
    (service_errors.NotPermitted, 403, "Forbidden"),
    (service_errors.NotFound, 404, "Not Found"),
    (service_errors.Conflict, 409, "Conflict"),
    (service_errors.Stale, 412, "Precondition Failed"),
    (service_errors.TooLarge, 413, "Payload Too Large"),
    (service_errors.Unsupported, 415, "Unsupported Media Type"),
    (service_errors.TooMany, 429, "Too Many Requests"),
    (service_errors.Unavailable, 503, "Service Unavailable"),
]


def service_status(exc: service_errors.ServiceError) -> tuple[int, str]:
    for cls, status, title in SERVICE_STATUS:
        if isinstance(exc, cls):
            if status == 400 and exc.errors:
                return status, "Validation Failed"
            return status, title
    return 500, "Internal Server Error"


GIT_PREFIX = "/git/"
GIT_REALM = 'Basic realm="ade"'


def git_error(status: int, detail: str) -> Response:
    """Errors for git clients: text/plain, which git prints as ``remote: ...``
    lines (problem+json it would swallow). 401 must name Basic, or git never
    offers credentials."""
    resp = Response(detail + "\n", status=status, mimetype="text/plain")
    if status == 401:
        resp.headers["WWW-Authenticate"] = GIT_REALM
    return resp


def problem(status: int, title: str, detail: str, **extra) -> Response:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    body.update({k: v for k, v in extra.items() if v is not None})
    resp = Response(
        json.dumps(body), status=status, mimetype="application/problem+json"
    )
    if status == 401 and request.path.startswith("/api/"):
        resp.headers["WWW-Authenticate"] = 'Bearer realm="ade"'
    if status in RETRY_AFTER_SECONDS:
        resp.headers["Retry-After"] = str(RETRY_AFTER_SECONDS[status])
    return resp


def _repo_error(exc: repo_errors.RepoError) -> Response:
    detail = str(exc) or type(exc).__name__
    if isinstance(exc, repo_errors.PreconditionFailed):
        return problem(
            412,
            "Precondition Failed",
            detail,
            current_etag=getattr(exc, "current_sha", None),
        )
    table = [
        (repo_errors.UnsafePath, 400, "Bad Request"),
        (repo_errors.TooManyFiles, 400, "Bad Request"),
        (repo_errors.FileTooLarge, 413, "Payload Too Large"),
        (repo_errors.PathNotFound, 404, "Not Found"),
        (repo_errors.RefNotFound, 404, "Not Found"),
        (repo_errors.RepoNotFound, 404, "Not Found"),
        (repo_errors.PathExists, 409, "Conflict"),
        (repo_errors.TagExists, 409, "Conflict"),
        (repo_errors.RepoExists, 409, "Conflict"),
        (repo_errors.ConcurrentUpdate, 409, "Conflict"),
    ]
    for cls, status, title in table:
        if isinstance(exc, cls):
            return problem(status, title, detail)
    log.exception("unhandled repository error")
    return problem(500, "Internal Server Error", "repository error")


def http_exception_response(exc: HTTPException) -> Response:
    """Werkzeug/flask-smorest HTTP errors as problem+json (422 becomes 400)."""
    status = exc.code or 500
    data = getattr(exc, "data", None) or {}
    errors = data.get("messages") if isinstance(data, dict) else None
    if isinstance(errors, dict) and len(errors) == 1:
        # webargs nests messages by location ("json", "query"): flatten one level.
        errors = next(iter(errors.values()))
    if status == 422:
        status = 400
        return problem(
            400, "Validation Failed", "The request body is invalid.", errors=errors
        )
    detail = exc.description or exc.name
    if isinstance(data, dict) and data.get("message"):
        detail = data["message"]
    resp = problem(status, exc.name, detail, errors=errors)
    # Werkzeug's headers belong to the answer (RFC 9110: a 405 lists the methods
    # in Allow); only its HTML body's Content-Type is replaced.
    for name, value in exc.get_headers():
        if name.lower() != "content-type":
            resp.headers[name] = value
    return resp


def init_app(app: Flask) -> None:
    @app.errorhandler(service_errors.ServiceError)
    def _service_error(exc: service_errors.ServiceError):
        status, title = service_status(exc)
        if request.path.startswith(GIT_PREFIX):
            return git_error(status, exc.detail)
        resp = problem(status, title, exc.detail, errors=exc.errors, **exc.extra)
        if isinstance(exc, service_errors.TooMany):
            resp.headers["Retry-After"] = str(max(1, exc.retry_after))
        return resp

    @app.errorhandler(HttpError)
    def _http_error(exc: HttpError):
        if request.path.startswith(GIT_PREFIX):
            return git_error(exc.status, exc.detail)
        return problem(exc.status, exc.title, exc.detail, **exc.extra)

    @app.errorhandler(repo_errors.RepoError)
    def _repo(exc: repo_errors.RepoError):
        return _repo_error(exc)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        return http_exception_response(exc)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error")
        return problem(500, "Internal Server Error", "An unexpected error occurred.")
