"""Running jobs: one execution routine (``execute.run_claimed``) behind a job port
(``direct``: database and data dir; ``http_port``: the API and git, for stateless
workers), and two executors (local threads, Celery).

The database row is the source of truth. An executor only *wakes* a worker; the worker
claims the row atomically (queued → running), so a duplicate wake-up is harmless, and
a reaper puts rows whose heartbeat lapsed back in the queue (bounded attempts).
"""
