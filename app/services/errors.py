"""What can go wrong in a service, in the service's own words.

Services raise these; they know nothing of HTTP. ``app.errors`` maps each class to a
status once (and the git endpoint to text for git clients), so a worker, a CLI
command or a test can call a service and catch a meaningful exception.
"""

from __future__ import annotations


class ServiceError(Exception):
    """A failure the caller can act on; ``detail`` is shown to the user, ``errors``
    (field → messages) and ``extra`` (e.g. ``current_etag``) travel with it."""

    def __init__(self, detail: str, *, errors: dict | None = None, **extra):
        super().__init__(detail)
        self.detail = detail
        self.errors = errors
        self.extra = extra


class Invalid(ServiceError):
    """The input breaks a rule (a bad value, an invalid manifest, a bad path)."""


class Unauthenticated(ServiceError):
    """No valid credentials."""


class NotPermitted(ServiceError):
    """Known caller, but its role does not allow this."""


class NotFound(ServiceError):
    """No such thing, or not visible to this caller (existence is not leaked)."""


class Conflict(ServiceError):
    """The current state forbids it (exists already, not the highest version...)."""


class Stale(ServiceError):
    """The caller's idea of a file is out of date; ``current_etag`` is the blob now."""


class TooLarge(ServiceError):
    """Over a size limit."""


class Unsupported(ServiceError):
    """A format the service does not take (a legacy .xls, a non-workbook)."""


class Unavailable(ServiceError):
    """Temporarily impossible (a repository that cannot be read right now)."""


class TooMany(ServiceError):
    """Past a limit on work in flight (concurrent dry runs of a token or a
    workspace); ``retry_after`` is when to try again, in seconds (a hint; the
    Retry-After header, not a member of the problem body, so it is positional)."""

    def __init__(self, detail: str, retry_after: int = 1):
        super().__init__(detail)
        self.retry_after = retry_after
