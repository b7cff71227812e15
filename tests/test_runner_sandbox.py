"""The sandbox against hostile config code: each run must end ok=False with the
clear error of the limit that stopped it, and this test process must be unharmed.
A run that outlives its limits hangs the test into pytest's timeout (how soon past
its deadline a run ends is no test's business on a loaded machine).

The config code runs through ``runner.sandbox.smoke`` (imports ``columns/*.py`` and
calls the ``detect*`` hooks), so these tests exercise the sandbox, not the engine.
"""

from __future__ import annotations

import dataclasses
import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from runner.guardrails import check_source
from runner.sandbox import Isolation, Limits, run_sandboxed, sandbox_capabilities
from tests.sandbox_helpers import settle_pool
from tests.waits import wait_for

SMOKE = "runner.sandbox.smoke:run"
# The wall limit is generous: a run meant to succeed, or to fail on another limit,
# must not lose a race with the clock on a loaded machine. Tests of the wall limit
# itself use SHORT_WALL.
LIMITS = Limits(
    cpu_seconds=2,
    wall_seconds=20,
    memory_bytes=512 * 2**20,
    processes=16,
    output_bytes=8 * 2**20,
    log_bytes=4096,
)
SHORT_WALL = dataclasses.replace(LIMITS, wall_seconds=3)
ISOLATED = os.geteuid() == 0
pytestmark = pytest.mark.timeout(30)


def make_config(tmp_path: Path, body: str) -> Path:
    """A config whose only column runs ``body`` inside ``detect_x``."""
    config = tmp_path / "config"
    (config / "columns").mkdir(parents=True)
    code = "def detect_x(**_):\n" + textwrap.indent(textwrap.dedent(body), "    ")
    (config / "columns" / "x.py").write_text(code)
    (config / "manifest.json").write_text("{}")
    return config


def run(tmp_path: Path, body: str, limits: Limits = LIMITS, **kwargs):
    config = make_config(tmp_path, body)
    source = tmp_path / "input.xlsx"
    source.write_bytes(b"not really a workbook")
    return run_sandboxed(config, source, None, limits=limits, entry=SMOKE, **kwargs)


def uid_processes(uid: int | None) -> list[int]:
    """Pids of live (not zombie) processes running as ``uid``."""
    pids = []
    for name in os.listdir("/proc"):
        try:
            status = Path(f"/proc/{name}/status").read_text()
        except (OSError, NotADirectoryError):
            continue
        for line in status.splitlines():
            if line.startswith("Uid:") and int(line.split()[1]) == uid:
                if "\nState:\tZ" not in status:
                    pids.append(int(name))
    return pids


def test_capabilities_report_isolation_as_root():
    caps = sandbox_capabilities()
    if ISOLATED:
        assert caps["mode"] == "isolated", caps
        assert caps["uid_drop"] and caps["network_namespace"]
    else:
        assert caps["mode"] == "limits-only" and caps["reason"]


def test_normal_run_returns_report_progress_logs_and_output(tmp_path):
    config = make_config(
        tmp_path,
        """
        import os
        print("hello from config")
        st = os.stat(".")
        return {"uid": os.getuid(), "mode": st.st_mode & 0o777, "owner": st.st_uid,
                "env": dict(os.environ), "cwd_files": sorted(os.listdir("."))}
        """,
    )
    source = tmp_path / "in.xlsx"
    source.write_bytes(b"payload")
    out = tmp_path / "out" / "result.xlsx"
    progress = []
    result = run_sandboxed(
        config, source, out, limits=LIMITS, entry=SMOKE,
        on_progress=lambda phase, rows: progress.append((phase, rows)),
    )  # fmt: skip
    assert result.ok, result.error
    assert result.error is None
    seen = result.report["scores"]["x.detect_x"]
    # Python's C-locale coercion adds LC_CTYPE itself; nothing comes from us.
    assert set(seen["env"]) <= {"LC_CTYPE"}
    assert "config" in seen["cwd_files"] and "input.xlsx" in seen["cwd_files"]
    if ISOLATED:
        assert seen["uid"] != 0 and seen["owner"] == seen["uid"]
        assert seen["mode"] == 0o700
    assert result.logs == ["hello from config"]
    assert progress == [("detect", 1)]
    assert out.read_bytes() == b"payload"
    assert result.elapsed_ms > 0 and result.max_rss_bytes > 0


def test_script_error_names_file_line_and_function(tmp_path):
    result = run(tmp_path, "x = 1\nreturn x / 0\n")
    assert not result.ok
    assert result.error == (
        "config script error: columns/x.py line 3 in detect_x: "
        "ZeroDivisionError: division by zero"
    )


def test_endless_loop_hits_cpu_limit(tmp_path):
    # A generous wall clock so that a busy CI machine still hits the CPU limit first.
    limits = dataclasses.replace(LIMITS, cpu_seconds=1, wall_seconds=8)
    result = run(tmp_path, "while True:\n    pass\n", limits)
    assert not result.ok
    assert result.error == "CPU time limit of 1 s exceeded"
    assert result.cpu_ms >= 500  # rusage lags the kernel's limit check a little


def test_sleep_hits_wall_clock_limit(tmp_path):
    result = run(tmp_path, "import time\ntime.sleep(1000)\n", SHORT_WALL)
    assert not result.ok
    assert result.error == "time limit of 3 s exceeded"


def test_huge_allocation_hits_memory_limit(tmp_path):
    result = run(tmp_path, "data = bytearray(10 * 2**30)\nreturn len(data)\n")
    assert not result.ok
    assert result.error == "memory limit exceeded (512 MiB)"


@pytest.mark.skipif(not ISOLATED, reason="RLIMIT_NPROC does not bind root")
def test_fork_bomb_is_contained(tmp_path):
    result = run(
        tmp_path,
        """
        import os
        while True:
            if os.fork() == 0:
                os.setsid()  # try to leave the process group
        """,
        SHORT_WALL,
    )
    assert not result.ok
    assert result.error in (
        "process limit of 16 exceeded",
        "CPU time limit of 2 s exceeded",
        "time limit of 3 s exceeded",
    )
    assert uid_processes(result.uid) == []  # nothing survived, even outside the group
    assert subprocess.run(["true"], timeout=5).returncode == 0  # we can still fork


@pytest.mark.skipif(not ISOLATED, reason="root reads every file")
def test_reading_shadow_is_denied(tmp_path):
    result = run(tmp_path, "return open('/etc/shadow').read()\n")
    assert not result.ok
    assert "PermissionError" in result.error and "/etc/shadow" in result.error
    assert "root:" not in "\n".join(result.logs)


@pytest.mark.skipif(not ISOLATED, reason="needs a network namespace")
def test_socket_to_loopback_reaches_nothing(tmp_path):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(0.3)
    port = listener.getsockname()[1]
    try:
        result = run(
            tmp_path,
            f"""
            import socket
            s = socket.create_connection(("127.0.0.1", {port}), timeout=1)
            s.sendall(b"stolen data")
            """,
        )
        with pytest.raises(TimeoutError):
            listener.accept()
    finally:
        listener.close()
    assert not result.ok
    assert "Network is unreachable" in result.error


@pytest.mark.skipif(not ISOLATED, reason="needs a dropped uid")
def test_os_system_runs_unprivileged_with_empty_env(tmp_path, monkeypatch):
    monkeypatch.setenv("ADE_CANARY_SECRET", "canary-value")
    target = tmp_path / "pwned"
    result = run(
        tmp_path,
        f"""
        import os
        os.system("env; id -u")
        status = os.system("echo pwned > {target}; cat /etc/shadow")
        if status:
            raise RuntimeError(f"shell failed with {{status}}")
        """,
    )
    assert not result.ok
    assert result.error.startswith("config script error: columns/x.py line 7 ")
    assert "RuntimeError: shell failed" in result.error
    assert not target.exists()
    logs = "\n".join(result.logs)
    assert "canary-value" not in logs and "root:" not in logs
    assert "Permission denied" in logs, result.logs


@pytest.mark.skipif(not ISOLATED, reason="needs a dropped uid")
def test_builtins_getattr_bypass_is_flagged_but_sandbox_holds(tmp_path):
    body = """
    b = __builtins__
    imp = b["__im" + "port__"] if isinstance(b, dict) else getattr(b, "__im" + "port__")
    os = imp("os")
    return os.listdir("/root")
    """
    config = make_config(tmp_path / "check", body)
    findings = check_source("columns/x.py", (config / "columns" / "x.py").read_text())
    assert {f.code for f in findings} == {"dunder"}  # the AST check only warns
    result = run(tmp_path, body)
    assert not result.ok
    assert "PermissionError" in result.error and "/root" in result.error


def test_printing_a_gigabyte_is_capped(tmp_path):
    result = run(
        tmp_path,
        """
        chunk = "x" * (1 << 20)
        for _ in range(1024):
            print(chunk)
        """,
    )
    assert not result.ok
    assert (
        result.error == "output limit of 8 MiB exceeded (the config printed too much)"
    )
    assert sum(len(line) for line in result.logs) < 4096 + 200
    assert (
        result.logs[-1].startswith("[... ")
        and "bytes of output dropped" in (result.logs[-1])
    )


def test_cancel_kills_the_run(tmp_path):
    cancel = threading.Event()
    threading.Timer(0.5, cancel.set).start()
    # The 20 s wall limit is far beyond the cancel: a busy machine cannot let it win.
    result = run(tmp_path, "import time\ntime.sleep(1000)\n", cancel=cancel)
    assert not result.ok
    assert result.error == "cancelled"
    assert result.uid is None or uid_processes(result.uid) == []


@pytest.mark.skipif(not ISOLATED, reason="uid leases need root")
def test_concurrent_runs_get_their_own_uids(tmp_path):
    results = {}

    def one(n: int) -> None:
        results[n] = run(tmp_path / str(n), "import os, time\ntime.sleep(0.3)\n"
                         "return os.getuid()\n")  # fmt: skip

    threads = [threading.Thread(target=one, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    uids = {r.report["scores"]["x.detect_x"] for r in results.values()}
    assert all(r.ok for r in results.values())
    assert len(uids) == 3 and 0 not in uids


def test_limits_only_fallback_is_reported_and_can_be_refused(tmp_path):
    broken = Isolation(unshare="/nonexistent/unshare")
    caps = sandbox_capabilities(broken)
    assert caps["mode"] == "limits-only"
    assert caps["reason"]
    result = run(tmp_path / "a", "return 42\n", isolation=broken)
    assert result.ok and result.report["scores"]["x.detect_x"] == 42
    strict = dataclasses.replace(broken, require_isolation=True)
    refused = run(tmp_path / "b", "return 42\n", isolation=strict)
    assert not refused.ok
    assert refused.error.startswith("sandbox unavailable: ")


def test_oversized_report_is_refused(tmp_path):
    limits = dataclasses.replace(LIMITS, report_bytes=64 * 1024)
    result = run(tmp_path, "return 'x' * 200_000\n", limits)
    assert not result.ok
    assert result.error == "report and messages larger than 65536 bytes"


def test_missing_input_is_an_error_not_an_exception(tmp_path):
    config = make_config(tmp_path, "return 1\n")
    result = run_sandboxed(config, tmp_path / "missing.xlsx", None, entry=SMOKE)
    assert not result.ok
    assert result.error.startswith("cannot stage the run: ")


@pytest.mark.skipif(not ISOLATED, reason="needs a pid namespace")
def test_worker_sees_no_other_process(tmp_path):
    assert sandbox_capabilities()["pid_namespace"]
    result = run(tmp_path, "import os\nreturn sorted(os.listdir('/proc'))\n")
    assert result.ok, result.error
    pids = [p for p in result.report["scores"]["x.detect_x"] if p.isdigit()]
    assert pids == ["1"]  # itself, as the namespace's init; the service is hidden


@pytest.mark.skipif(not ISOLATED, reason="bind mounts need the isolated worker")
def test_code_under_a_private_directory_is_still_importable(tmp_path, monkeypatch):
    # A checkout (or venv) below a 0700 directory, as a CI clone in a private temp
    # dir would be: the dropped uid cannot reach it, so it is bind-mounted for it.
    private = tmp_path / "private"
    code = private / "lib"
    code.mkdir(parents=True)
    private.chmod(0o700)
    (code / "hidden_entry.py").write_text(
        "import os\n\n"
        "def run(config_dir, input_path, output_path, *, sample_rows=None,"
        " progress=None):\n"
        "    return {'uid': os.getuid(), 'file': __file__, 'env': dict(os.environ)}\n"
    )
    monkeypatch.syspath_prepend(str(code))
    config = make_config(tmp_path, "return 1\n")
    source = tmp_path / "in.xlsx"
    source.write_bytes(b"x")
    result = run_sandboxed(config, source, None, entry="hidden_entry:run")
    assert result.ok, result.error
    assert result.report["uid"] == result.uid != 0
    assert not result.report["file"].startswith(str(private))  # seen via the mount
    assert set(result.report["env"]) <= {"LC_CTYPE"}


@pytest.mark.skipif(not ISOLATED, reason="needs a dropped uid")
def test_files_left_in_world_writable_dirs_are_removed(tmp_path):
    tag = f"ade-test-{os.getpid()}-{time.monotonic_ns()}"
    left = [Path("/tmp") / tag, Path("/var/tmp") / tag, Path("/dev/shm") / tag]
    link = Path("/tmp") / f"{tag}-link"
    result = run(
        tmp_path,
        f"""
        import os
        for path in {[str(p) for p in left]!r}:
            os.makedirs(path + "/sub")
            fd = os.open(path + "/sub/f", os.O_WRONLY | os.O_CREAT)
            os.write(fd, b"x" * 1000)
        os.symlink("/etc/passwd", "{link}")
        return "wrote"
        """,
    )
    assert result.ok, result.error
    assert [p for p in (*left, link) if os.path.lexists(p)] == []
    assert Path("/etc/passwd").exists()


@pytest.mark.skipif(not ISOLATED, reason="needs the isolated worker")
@pytest.mark.parametrize("where", ["/run", "/dev/shm", "/tmp", "/var/tmp"])
def test_unix_sockets_of_the_host_are_out_of_reach(tmp_path, where):
    # A network namespace does not hide sockets that live in the file system: a
    # local PostgreSQL, MySQL or Redis socket in /run answered the worker (with
    # "local all all trust", as the postgres superuser), and a Redis started with
    # --unixsocket /tmp/x.sock --unixsocketperm 777 did. /run, /dev/shm, /tmp and
    # /var/tmp are private to the worker.
    path = f"{where}/ade-test-{os.getpid()}-{time.monotonic_ns()}.sock"
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(path)
    os.chmod(path, 0o777)
    listener.listen(1)
    listener.settimeout(0.3)
    try:
        result = run(
            tmp_path,
            f"""
            import socket
            s = socket.socket(socket.AF_UNIX)
            s.connect({path!r})
            s.sendall(b"stolen data")
            """,
        )
        with pytest.raises(TimeoutError):
            listener.accept()
    finally:
        listener.close()
        os.unlink(path)
    assert not result.ok
    assert "FileNotFoundError" in result.error


@pytest.mark.skipif(not ISOLATED, reason="needs the isolated worker")
def test_private_mounts_stay_in_place_from_a_user_namespace(tmp_path):
    # The worker may create a user namespace (a kernel setting, see
    # docs/operations.md); the mounts it inherits there are locked, so unmounting
    # the private /run, /dev/shm, /tmp or /var/tmp to reach what they cover fails.
    result = run(
        tmp_path,
        """
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.unshare(0x10000000 | 0x00020000)  # CLONE_NEWUSER | CLONE_NEWNS
        dirs = (b"/run", b"/var/run", b"/dev/shm", b"/tmp", b"/var/tmp")
        return [libc.umount2(p, 2) for p in dirs]
        """,
    )
    assert result.ok, result.error
    assert result.report["scores"]["x.detect_x"] == [-1] * 5


@pytest.mark.skipif(not ISOLATED, reason="the uid drop needs root")
def test_private_tmpdir_does_not_break_staging(tmp_path, monkeypatch):
    """A TMPDIR the dropped uid cannot reach (e.g. under /root) is not used for
    scratch: the run still stages and succeeds."""
    import tempfile

    private = tmp_path / "private-tmp"
    private.mkdir(mode=0o700)
    (tmp_path).chmod(0o700)
    monkeypatch.setattr(tempfile, "tempdir", str(private))
    result = run(tmp_path, "return 1.0")
    assert result.ok, result.error


def _sandbox_uid_processes() -> list[int]:
    first = Isolation().uid_first
    pids = []
    for uid in range(first, first + Isolation().uid_count):
        pids += uid_processes(uid)
    return pids


@pytest.mark.skipif(not ISOLATED, reason="sandbox uids exist only as root")
@pytest.mark.timeout(90)
def test_worker_dies_with_the_service_process(tmp_path):
    """SIGKILL of the process that waits for a run (a service worker dying) takes
    the sandbox with it instead of leaving it running until its limits."""
    config = make_config(tmp_path, "while True:\n    pass")
    source = tmp_path / "in.xlsx"
    source.write_bytes(b"x")
    script = textwrap.dedent(
        f"""
        from pathlib import Path
        from runner.sandbox import Limits, run_sandboxed
        run_sandboxed(Path({str(config)!r}), Path({str(source)!r}), None,
                      limits=Limits(cpu_seconds=60, wall_seconds=60),
                      entry={SMOKE!r})
        """
    )
    settle_pool()  # the suite's own warm workers are not the service's
    before = set(_sandbox_uid_processes())
    service = subprocess.Popen([sys.executable, "-c", script])
    started = wait_for(
        lambda: set(_sandbox_uid_processes()) - before,
        20,
        what="the sandbox worker to start",
    )
    service.kill()
    service.wait()
    wait_for(
        lambda: not started & set(_sandbox_uid_processes()),
        20,  # the run's own limits are 60 s: gone before them means it died with us
        what="the sandbox worker to die with its service",
        last=lambda: started & set(_sandbox_uid_processes()),
    )
