"""``ade run``: run a config on one workbook from the command line, in the sandbox.

    ade run --config <dir | repo.git@ref> input.xlsx -o out.xlsx [--report r.json]

Exit 0 when the run succeeded (issues found in the data are not failures); otherwise
exit 1 with one line on stderr. The app's ``ade`` group adds ``run_command``; this
module imports click only (never Flask), so ``python -m runner.cli`` works too.
"""

from __future__ import annotations

import json
import math
import tempfile
from collections import Counter
from pathlib import Path

import click

from runner.sandbox import Limits, SandboxResult, run_sandboxed, sandbox_capabilities


class _ConfigSourceError(click.ClickException):
    pass


def _is_git_repo(path: Path) -> bool:
    return (
        (path / "HEAD").is_file()
        and (path / "objects").is_dir()
        or (path / ".git").exists()
    )


def export_config(spec: str, dest: Path) -> Path:
    """Resolve ``--config``: a package directory, or ``repo.git@ref`` exported to
    ``dest``. Returns the directory to run."""
    path = Path(spec)
    if path.is_dir() and (path / "manifest.json").is_file():
        return path
    repo_path, ref = spec, "HEAD"
    if not path.is_dir() and "@" in spec:
        repo_path, _, ref = spec.rpartition("@")
    if not Path(repo_path).is_dir():
        raise _ConfigSourceError(f"config not found: {spec}")
    if not _is_git_repo(Path(repo_path)):
        raise _ConfigSourceError(f"not a config package or git repository: {spec}")
    from repos.errors import RepoError
    from repos.repo import ConfigRepo

    try:
        ConfigRepo(Path(repo_path)).export(ref, dest)
    except RepoError as exc:
        raise _ConfigSourceError(f"cannot export {spec}: {exc}") from exc
    return dest


def _fmt_score(value: float) -> str:
    return f"{value:g}"


def summary_lines(report: dict) -> list[str]:
    """The short mapping summary printed after a successful run."""
    lines = []
    for table in report.get("tables", []):
        header = table.get("header_rows") or [table.get("header_row")] * 2
        where = (
            f"header row {header[1]}"
            if header[0] == header[1]
            else f"header rows {header[0]}-{header[1]}"
        )
        lines.append(
            f"{table['sheet']} {table['range']}: {where}, {table['rows']} rows"
        )
        if not table["rows"]:
            continue
        width = max((len(str(c["header"] or "")) for c in table["columns"]), default=0)
        for col in table["columns"]:
            head = str(col["header"] or "").ljust(min(width, 30))[:30]
            target = (
                f"{col['field']} ({_fmt_score(col['score'])})" if col["field"] else "-"
            )
            lines.append(f"  {col['column']:>3}  {head}  -> {target}")
        if table.get("unmapped_fields"):
            lines.append(f"  unmapped fields: {', '.join(table['unmapped_fields'])}")
    findings = report.get("findings", [])
    metrics = report.get("metrics", {})
    total = metrics.get("issues", len(findings))
    by_severity = Counter(f.get("severity", "error") for f in findings)
    detail = ", ".join(f"{n} {s}" for s, n in sorted(by_severity.items()))
    lines.append(f"Issues: {total}" + (f" ({detail})" if detail else ""))
    return lines


@click.command("run")
@click.option(
    "--config",
    "config_spec",
    required=True,
    help="Config package directory, or REPO.git@REF (a branch, tag or commit).",
)
@click.argument(
    "input_path", type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the normalized workbook (omit for a dry run).",
)
@click.option(
    "--report",
    "report_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the JSON report here.",
)
@click.option("--sample-rows", type=click.IntRange(min=1), help="Rows per detector.")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1),
    default=120.0,
    show_default=True,
    help="Wall-clock (and CPU) limit in seconds.",
)
def run_command(
    config_spec: str,
    input_path: Path,
    output: Path | None,
    report_path: Path | None,
    sample_rows: int | None,
    timeout: float,
) -> None:
    """Run a config on INPUT_PATH in the sandbox and print the mapping summary."""
    caps = sandbox_capabilities()
    if caps["mode"] != "isolated":
        click.echo(
            f"warning: sandbox runs with limits only: {caps['reason']}", err=True
        )
    limits = Limits(wall_seconds=timeout, cpu_seconds=max(1, math.ceil(timeout)))
    with tempfile.TemporaryDirectory(prefix="ade-run-") as tmp:
        config_dir = export_config(config_spec, Path(tmp) / "config")
        result = run_sandboxed(
            config_dir, input_path, output, limits=limits, sample_rows=sample_rows
        )
    _finish(result, output, report_path)


def _finish(result: SandboxResult, output: Path | None, report_path: Path | None):
    if not result.ok:
        raise click.ClickException(result.error or "the run failed")
    if report_path is not None:
        report_path.write_text(json.dumps(result.report, indent=2, default=str))
    for line in summary_lines(result.report):
        click.echo(line)
    written = [f"wrote {p}" for p in (output, report_path) if p is not None]
    peak = f"worker peak {result.max_rss_bytes / 2**20:.0f} MB"
    click.echo("; ".join([*written, f"{result.elapsed_ms} ms", peak]))


if __name__ == "__main__":
    run_command()
