"""The parent side of a sandboxed run: scratch dir, start, watch, kill, copy out.

The supervisor never imports config code. It copies the config and the input into a
private scratch directory, starts one worker (``runner.sandbox.worker``) in its own
session, and watches three pipes with one ``select`` loop: the message pipe (progress,
report), and the worker's stdout and stderr (kept up to ``Limits.log_bytes``; more than
``Limits.output_bytes`` in all stops the run). At the wall-clock deadline, on cancel, or
once the worker has exited, the whole process group is killed (and, when isolated,
every process left with the worker's uid).
"""

from __future__ import annotations

import dataclasses
import json
import os
import selectors
import shutil
import signal
import stat
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from runner.sandbox.isolation import (
    UidLease,
    code_mounts,
    kill_uid,
    probe,
    remove_files_of,
    scratch_parent,
    worker_command,
    worker_sys_path,
)
from runner.sandbox.limits import Isolation, Limits, MiB
from runner.sandbox.worker import BOOTSTRAP

CHUNK = 65536


@dataclass(frozen=True)
class SandboxResult:
    """Outcome of one run. ``error`` is one line when ``ok`` is False."""

    ok: bool
    report: dict | None
    error: str | None
    logs: list[str]
    elapsed_ms: int
    max_rss_bytes: int = 0  # the worker's peak RSS (VmHWM; getrusage if it died)
    cpu_ms: int = 0
    uid: int | None = None  # the uid the worker ran as (None: not dropped)


@dataclass
class _Stream:
    kept: bytearray = field(default_factory=bytearray)
    total: int = 0


def _size(n: float) -> str:
    return f"{n / MiB:g} MiB" if n >= MiB else f"{n:g} bytes"


def _prepare_scratch(
    root: Path, config_dir: Path, input_path: Path, uid: int | None
) -> tuple[Path, Path]:
    """Copy config and input into ``root``; hand everything to ``uid``."""
    config = root / "config"
    # symlinks=True: a link in a config tree must not make *us* read its target.
    shutil.copytree(
        config_dir, config, symlinks=True, ignore=shutil.ignore_patterns(".git")
    )
    suffix = "".join(input_path.suffixes[-1:]).lower()
    staged_input = root / f"input{suffix}"
    shutil.copyfile(input_path, staged_input)
    if uid is not None:
        for dirpath, dirnames, filenames in os.walk(root):
            for name in (*dirnames, *filenames):
                os.lchown(os.path.join(dirpath, name), uid, uid)
        os.chown(root, uid, uid)
    os.chmod(root, 0o700)
    return config, staged_input


def _copy_out(src: Path, dest: Path, uid: int | None, max_bytes: int) -> str | None:
    """Copy the worker's output file to ``dest``; refuse anything but a plain file.

    The worker owns ``src``: it could have replaced it with a symlink or a hard link to
    a file only we may read, so open without following links and check owner and type.
    """
    try:
        fd = os.open(src, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return "the run wrote no output file"
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fh.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1:
            return "the output is not a regular file"
        if uid is not None and info.st_uid != uid:
            return "the output file is not the worker's"
        if info.st_size > max_bytes:
            return "file size limit exceeded"
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{dest.name}.part")
        with open(tmp, "wb") as out:
            shutil.copyfileobj(fh, out, 1024 * 1024)
        os.replace(tmp, dest)
    return None


def _has_exited(pid: int) -> bool:
    """Has the worker exited? Does not reap it, so its pgid stays ours to kill."""
    info = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    return info is not None


def _kill_group(pid: int, uid: int | None, settle: float = 0.0) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    if uid is not None:
        kill_uid(uid, settle)


def run_sandboxed(
    config_dir: Path,
    input_path: Path,
    output_path: Path | None,
    *,
    limits: Limits = Limits(),
    sample_rows: int | None = None,
    on_progress: Callable[[str, int], None] | None = None,
    cancel: threading.Event | None = None,
    isolation: Isolation = Isolation(),
    entry: str = "runner.engine:run",
) -> SandboxResult:
    """Run ``entry`` (the engine) on one input in a fresh sandboxed worker.

    Never raises for anything the config does; returns ``ok=False`` with a one-line
    ``error``. ``on_progress(phase, rows)`` is called from this thread. ``entry`` is
    ``"module:function"`` with ``runner.engine.run``'s signature (tests use a small
    internal one).
    """
    started = time.monotonic()
    caps = probe(isolation)
    if caps["mode"] != "isolated" and isolation.require_isolation:
        return SandboxResult(
            False, None, f"sandbox unavailable: {caps['reason']}", [], 0
        )
    lease = UidLease(isolation) if caps["mode"] == "isolated" else None
    if lease is not None and lease.uid is None:
        return SandboxResult(False, None, "all sandbox slots are busy", [], 0)
    uid = lease.uid if lease else None
    root = Path(tempfile.mkdtemp(prefix="ade-sandbox-", dir=scratch_parent(isolation)))
    try:
        if uid is not None:
            # Leftovers of a crashed service, and the zombies of the last run with
            # this uid: they count against RLIMIT_NPROC until reaped.
            kill_uid(uid, settle=2.0)
        try:
            config, staged = _prepare_scratch(
                root, Path(config_dir), Path(input_path), uid
            )
        except OSError as exc:
            return SandboxResult(False, None, f"cannot stage the run: {exc}", [], 0)
        out = root / f"output{Path(output_path).suffix}" if output_path else None
        result = _supervise(
            root,
            config,
            staged,
            out,
            uid,
            limits,
            sample_rows,
            on_progress,
            cancel,
            isolation,
            entry,
            started,
        )
        if result.ok and out is not None:
            problem = _copy_out(out, Path(output_path), uid, limits.file_bytes)
            if problem:
                result = dataclasses.replace(
                    result, ok=False, report=None, error=problem
                )
        return result
    finally:
        shutil.rmtree(root, ignore_errors=True)
        if lease is not None:
            remove_files_of(lease.uid, isolation.sweep_dirs)
            lease.release()


def _supervise(
    root, config, staged, out, uid, limits, sample_rows, on_progress, cancel,
    isolation, entry, started,
) -> SandboxResult:  # fmt: skip
    pid_namespace = bool(probe(isolation)["pid_namespace"])
    sys_path, binds = worker_sys_path(), []
    if uid is not None and pid_namespace:
        sys_path, binds = code_mounts(sys_path, root)
    msg_r, msg_w = os.pipe()
    args = {
        "sys_path": sys_path,
        "limits": limits.to_dict(),
        "scratch": str(root),
        "config_dir": str(config),
        "input_path": str(staged),
        "output_path": str(out) if out else None,
        "sample_rows": sample_rows,
        "entry": entry,
        "fd": msg_w,
    }
    try:
        command = worker_command(isolation, uid, args, BOOTSTRAP, pid_namespace, binds)
        proc = _start(command, root, msg_w)
    except OSError as exc:
        os.close(msg_r)
        return SandboxResult(False, None, f"the worker could not start: {exc}", [], 0)
    finally:
        os.close(msg_w)
    return _watch(proc, msg_r, uid, limits, on_progress, cancel, started)


def _start(command: list[str], root: Path, msg_w: int) -> subprocess.Popen:
    return subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        pass_fds=(msg_w,),
        env={},
        cwd=root,
        start_new_session=True,
    )


def _watch(proc, msg_r, uid, limits, on_progress, cancel, started) -> SandboxResult:
    """Pump the pipes until the worker is gone; kill it at the deadline or cancel."""
    streams = {proc.stdout.fileno(): _Stream(), proc.stderr.fileno(): _Stream()}
    message_buf = bytearray()
    messages: list[dict] = []
    sel = selectors.DefaultSelector()
    for fd in (msg_r, *streams):
        os.set_blocking(fd, False)
        sel.register(fd, selectors.EVENT_READ)
    deadline = started + limits.wall_seconds
    stop: str | None = None
    exited_at = None
    try:
        while True:
            now = time.monotonic()
            if exited_at is None and _has_exited(proc.pid):
                exited_at = now
                _kill_group(proc.pid, uid)  # forks left behind hold our pipes
            if exited_at is not None and (not sel.get_map() or now - exited_at > 2):
                break  # done, or something outside the group still holds a pipe
            if stop is None and exited_at is None:
                if now >= deadline:
                    stop = f"time limit of {limits.wall_seconds:g} s exceeded"
                elif cancel is not None and cancel.is_set():
                    stop = "cancelled"
                if stop:
                    _kill_group(proc.pid, uid)
            if not sel.get_map():
                time.sleep(0.02)
                continue
            for key, _ in sel.select(timeout=0.05):
                fd = key.fd
                try:
                    data = os.read(fd, CHUNK)
                except BlockingIOError:
                    continue
                if not data:
                    sel.unregister(fd)
                    continue
                if fd == msg_r:
                    message_buf += data
                    if len(message_buf) > limits.report_bytes and stop is None:
                        stop = f"report larger than {_size(limits.report_bytes)}"
                        _kill_group(proc.pid, uid)
                    if b"\n" not in data:
                        continue  # a long report arrives in many chunks
                    *lines, rest = message_buf.split(b"\n")
                    message_buf = bytearray(rest)
                    for line in lines:
                        msg = _parse(line)
                        if "progress" not in msg:
                            messages.append(msg)
                        elif on_progress is not None:
                            _progress(on_progress, msg["progress"])
                else:
                    s = streams[fd]
                    s.total += len(data)
                    room = limits.log_bytes - len(s.kept)
                    if room > 0:
                        s.kept += data[:room]
                    if (
                        stop is None
                        and sum(x.total for x in streams.values()) > limits.output_bytes
                    ):
                        stop = (
                            f"output limit of {_size(limits.output_bytes)} exceeded "
                            "(the config printed too much)"
                        )
                        _kill_group(proc.pid, uid)
    finally:
        sel.close()
        _kill_group(proc.pid, uid)
        _, status, rusage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        if uid is not None:
            kill_uid(uid)  # its zombies are waited for by the next lease of this uid
        os.close(msg_r)
        proc.stdout.close()
        proc.stderr.close()
    logs = _logs(streams, limits)
    elapsed = int((time.monotonic() - started) * 1000)
    cpu_ms = int((rusage.ru_utime + rusage.ru_stime) * 1000) if rusage else 0
    peaks = [m["peak_rss_bytes"] for m in messages if "peak_rss_bytes" in m]
    rss = int(peaks[-1]) if peaks else (rusage.ru_maxrss * 1024 if rusage else 0)
    report = next((m["report"] for m in messages if "report" in m), None)
    error = stop or _error(
        messages, proc.returncode, cpu_ms, limits, logs, streams_signalled(streams)
    )
    if error is None and report is None:
        error = "the worker ended without a report"
    if error is None and not isinstance(report, dict):
        error = "the worker returned a malformed report"
    return SandboxResult(error is None, report if error is None else None, error, logs,
                         elapsed, rss, cpu_ms, uid)  # fmt: skip


def _progress(callback: Callable[[str, int], None], value: object) -> None:
    if (
        isinstance(value, list)
        and len(value) == 2
        and isinstance(value[0], str)
        and isinstance(value[1], int)
    ):
        callback(value[0], value[1])


def _parse(line: bytes) -> dict:
    try:
        msg = json.loads(line)
    except ValueError:
        return {"error": {"kind": "protocol", "message": "garbled worker message"}}
    return msg if isinstance(msg, dict) else {}


def _error(messages, returncode, cpu_ms, limits, logs, killed_by_signal) -> str | None:
    for msg in messages:
        err = msg.get("error")
        if isinstance(err, dict):
            text = str(err.get("message", "unknown error"))
            kind = err.get("kind")
            if kind == "memory":
                return f"memory limit exceeded ({_size(limits.memory_bytes)})"
            if kind == "processes":
                return f"process limit of {limits.processes} exceeded"
            if kind == "file_size":
                return f"file size limit exceeded ({_size(limits.file_bytes)})"
            return text.splitlines()[0] if text else "unknown error"
    if returncode == 0:
        return None
    if (
        returncode in (-signal.SIGXCPU, 128 + signal.SIGXCPU)  # see worker.main
        or cpu_ms >= limits.cpu_seconds * 1000 - 50
    ):
        return f"CPU time limit of {limits.cpu_seconds} s exceeded"
    if returncode == -signal.SIGKILL or killed_by_signal:
        return "the worker was killed (out of memory?)"
    if returncode < 0:
        return f"the worker crashed ({signal.Signals(-returncode).name})"
    last = next((line for line in reversed(logs) if line.strip()), "")
    return f"the worker exited with status {returncode}" + (f": {last}" if last else "")


# How unshare (util-linux 2.38) reports that its child, the worker, died of SIGKILL:
# it tries to re-raise the signal on itself, fails, and exits 1 with this message.
UNSHARE_SIGNAL_NOTE = b"unshare: sigprocmask unblock failed"


def streams_signalled(streams: dict[int, _Stream]) -> bool:
    return any(UNSHARE_SIGNAL_NOTE in s.kept for s in streams.values())


def _logs(streams: dict[int, _Stream], limits: Limits) -> list[str]:
    logs: list[str] = []
    for s in streams.values():
        if not s.total:
            continue
        text = s.kept.decode("utf-8", "replace")
        logs.extend(x for x in text.splitlines() if not x.startswith("unshare: "))
        if s.total > len(s.kept):
            logs.append(f"[... {s.total - len(s.kept)} more bytes of output dropped]")
    return logs
