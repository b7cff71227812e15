"""A minimal stand-in for ``runner.engine.run`` used to exercise the sandbox itself.

It imports every ``columns/*.py`` of a config and calls its ``detect*`` hooks once,
which is all a hostile-code test needs; it does not read the workbook. Internal: pass
``entry="runner.sandbox.smoke:run"`` to ``run_sandboxed``.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path


def run(
    config_dir: Path,
    input_path: Path,
    output_path: Path | None,
    *,
    sample_rows: int | None = None,
    progress: Callable[[str, int], None] | None = None,
) -> dict:
    """Call each column's ``detect*`` functions; report the scores they return."""
    scores: dict[str, dict] = {}
    for path in sorted((config_dir / "columns").glob("*.py")):
        spec = importlib.util.spec_from_file_location(f"ade_cfg_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for name in sorted(dir(module)):
            if name.startswith("detect") and callable(getattr(module, name)):
                value = getattr(module, name)(
                    header="Email", values=["a@b.c"], column_index=0, sheet="Sheet1",
                    field={"key": path.stem}, state=None, ctx=None,
                )  # fmt: skip
                scores[f"{path.stem}.{name}"] = value
        if progress is not None:
            progress("detect", len(scores))
    if output_path is not None:
        output_path.write_bytes(input_path.read_bytes())
    return {"scores": scores, "input_bytes": input_path.stat().st_size}
