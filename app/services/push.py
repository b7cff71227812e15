"""The checks of a ``git push``, run by receive-pack's ``pre-receive`` hook.

receive-pack holds the pushed objects in a quarantine directory, runs this hook with
the ref updates on stdin (``<old> <new> <ref>`` per line), and applies the updates
only if the hook exits 0; whatever the hook writes to stderr reaches the client as
``remote: ...`` lines. So the API's rules hold for pushes too: only the draft,
only as a fast-forward of its current tip, and only with a tree that passes the
path/size/count checks of the store and the package check (``runner.checks``, the
same rule as a publish), with guardrail findings reported (or blocking, by setting).

This module runs as a script outside the Flask app (``python -P push.py ...``), so it
imports nothing from ``app``: settings arrive on argv, git's quarantine paths in the
environment receive-pack sets for its hooks.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from repos.errors import RefNotFound, RepoError
from repos.repo import DRAFT, MAIN, ConfigRepo, RepoSettings
from runner.checks import MANIFEST, check_package

ZERO = "0" * 40
MAX_LINES = 40  # a push with hundreds of problems prints the first ones only


@dataclass
class Verdict:
    """What the hook says about a push: errors reject it, warnings are shown."""

    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return not self.errors


def parse_updates(text: str) -> list[tuple[str, str, str]]:
    """``(old, new, ref)`` per line of a pre-receive hook's stdin."""
    updates = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 3:
            updates.append((parts[0], parts[1], parts[2]))
    return updates


@dataclass(frozen=True)
class NewObject:
    """An object the push brings (still in receive-pack's quarantine)."""

    sha: str
    type: str
    size: int


def check_push(
    repo: ConfigRepo,
    updates: Iterable[tuple[str, str, str]],
    *,
    is_ancestor: Callable[[str, str], bool],
    block_guardrails: bool = False,
    new_objects: Iterable[NewObject] = (),
) -> Verdict:
    """Judge the ref updates of one push against ``repo`` (which must see the
    pushed objects). ``is_ancestor(a, b)`` says whether commit ``a`` is an
    ancestor of ``b``. ``new_objects`` are every object the push brings: each
    is held to the file size limit and each new commit's tree to the store's
    rules, so history cannot carry what the tip may not (a 30 MB blob added in
    one commit and deleted in the next). A push is all or nothing: one bad
    update rejects it."""
    verdict = Verdict()
    _check_history(repo, new_objects, verdict)
    for old, new, ref in updates:
        if ref != DRAFT:
            verdict.errors.append(
                f"{ref}: only refs/heads/draft can be pushed; "
                + (
                    "tags and main are made by publishing through the API"
                    if ref.startswith("refs/tags/") or ref == MAIN
                    else "the draft is the only branch"
                )
            )
            continue
        if new == ZERO:
            verdict.errors.append(f"{ref}: the draft cannot be deleted")
            continue
        stale = _stale(repo, old, new, is_ancestor)
        if stale:
            verdict.errors.append(stale)
        else:
            _check_tree(repo, new, verdict, block_guardrails)
    return verdict


def _check_history(
    repo: ConfigRepo, objects: Iterable[NewObject], verdict: Verdict
) -> None:
    limit = repo.settings.max_file_bytes
    seen_trees: set[str] = set()
    for obj in sorted(objects, key=lambda o: (o.type, o.sha)):
        if obj.type == "blob" and obj.size > limit:
            verdict.errors.append(
                f"object {obj.sha[:12]}: a file of {obj.size} bytes is over the "
                f"{limit}-byte limit (in the pushed history)"
            )
        elif obj.type == "commit":
            tree = repo.tree_id(obj.sha)
            if tree in seen_trees:
                continue
            seen_trees.add(tree)
            verdict.errors += [
                f"commit {obj.sha[:12]}: {problem}" for problem in repo.check_tree(tree)
            ]


def _stale(repo: ConfigRepo, old: str, new: str, is_ancestor) -> str | None:
    """Why ``old -> new`` is no fast-forward of the current draft, or None."""
    try:
        tip = repo.resolve(DRAFT)
    except RefNotFound:
        tip = None
    # old != tip: the client built on a tip that has moved since (an API save,
    # another push). Otherwise new must contain tip (no forced rewrite).
    if (tip or ZERO) == old and (tip is None or is_ancestor(tip, new)):
        return None
    return (
        f"{DRAFT}: rejected, not a fast-forward of the current draft"
        + (f" ({tip[:12]})" if tip else "")
        + ": fetch, rebase or merge, then push again"
    )


def _check_tree(repo: ConfigRepo, new: str, verdict: Verdict, block: bool) -> None:
    problems = repo.check_tree(new)
    if problems:
        verdict.errors += problems
        return  # the remaining checks read files, which these problems may forbid
    paths = [entry.path for entry in repo.list_files(new)]
    # Read only what the checks need: the tree may also hold large data files.
    files = {
        path: repo.read_file(path, new).data
        for path in paths
        if path == MANIFEST or path.endswith(".py")
    }
    check = check_package(files, paths=paths)
    for problem in check.errors:
        if problem.source == "guardrail" and not block:
            verdict.warnings.append(problem.text())
        else:
            verdict.errors.append(problem.text())


def format_verdict(verdict: Verdict) -> str:
    """The text the client prints (each line prefixed ``remote:`` by git)."""
    lines: list[str] = []
    if verdict.errors:
        lines.append("error: push rejected by ADE:")
        lines += [f"  {e}" for e in verdict.errors[:MAX_LINES]]
        if len(verdict.errors) > MAX_LINES:
            lines.append(f"  ... and {len(verdict.errors) - MAX_LINES} more")
    if verdict.warnings:
        lines.append("warning: guardrail findings (they block publishing):")
        lines += [f"  {w}" for w in verdict.warnings[:MAX_LINES]]
        if len(verdict.warnings) > MAX_LINES:
            lines.append(f"  ... and {len(verdict.warnings) - MAX_LINES} more")
    return "".join(line + "\n" for line in lines)


# ----- the hook process ----------------------------------------------------------


def open_pushed_repo(
    path: Path, settings: RepoSettings, env: Mapping[str, str]
) -> ConfigRepo:
    """The repo at ``path`` seeing the objects receive-pack still holds in
    quarantine (``GIT_QUARANTINE_PATH``), which libgit2 would not look at."""
    quarantine = env.get("GIT_QUARANTINE_PATH") or env.get("GIT_OBJECT_DIRECTORY")
    return ConfigRepo(
        path, settings, extra_object_dirs=[quarantine] if quarantine else []
    )


def quarantined_objects(
    git: str, path: Path, env: Mapping[str, str]
) -> list[NewObject]:
    """Every object of the push: receive-pack keeps them in its quarantine
    directory (packs and, for small pushes, loose objects) until the hook says
    yes. Objects the pack carries that no commit reaches count too."""
    quarantine = env.get("GIT_QUARANTINE_PATH")
    if not quarantine:
        return []
    root = Path(quarantine)
    ids: list[str] = []
    for idx in sorted((root / "pack").glob("*.idx")):
        with open(idx, "rb") as fh:
            out = subprocess.run(
                [git, "show-index"], stdin=fh, capture_output=True, check=True
            )
        ids += [line.split()[1].decode() for line in out.stdout.splitlines()]
    for sub in sorted(root.iterdir()):
        if len(sub.name) == 2 and sub.is_dir():
            ids += [sub.name + f.name for f in sub.iterdir() if len(f.name) == 38]
    if not ids:
        return []
    out = subprocess.run(
        [git, "--git-dir", str(path), "cat-file", "--batch-check=" + _BATCH_FORMAT],
        input="\n".join(ids).encode() + b"\n",
        capture_output=True,
        check=True,
        env=dict(env),
    )
    objects = []
    for line in out.stdout.decode().splitlines():
        sha, kind, size = line.split()
        objects.append(NewObject(sha, kind, int(size)))
    return objects


_BATCH_FORMAT = "%(objectname) %(objecttype) %(objectsize)"


def git_is_ancestor(git: str, path: Path):
    """``is_ancestor`` backed by ``git merge-base --is-ancestor``, which honours
    the quarantine environment receive-pack gives its hooks."""

    def is_ancestor(a: str, b: str) -> bool:
        proc = subprocess.run(
            [git, "--git-dir", str(path), "merge-base", "--is-ancestor", a, b],
            capture_output=True,
            check=False,
        )
        return proc.returncode == 0

    return is_ancestor


def main(argv: list[str] | None = None) -> int:
    """Entry point of the pre-receive hook; exit status 0 accepts the push."""
    parser = argparse.ArgumentParser(prog="ade-pre-receive")
    parser.add_argument("--max-file-bytes", type=int, required=True)
    parser.add_argument("--max-files", type=int, required=True)
    parser.add_argument("--git", default="git")
    parser.add_argument("--guardrails", choices=("warn", "block"), default="warn")
    parser.add_argument("repo", nargs="?", default=".")
    args = parser.parse_args(argv)
    path = Path(args.repo).resolve()
    settings = RepoSettings(
        max_file_bytes=args.max_file_bytes, max_files=args.max_files, git=args.git
    )
    try:
        repo = open_pushed_repo(path, settings, os.environ)
        verdict = check_push(
            repo,
            parse_updates(sys.stdin.read()),
            is_ancestor=git_is_ancestor(args.git, path),
            block_guardrails=args.guardrails == "block",
            new_objects=quarantined_objects(args.git, path, os.environ),
        )
    except RepoError as exc:
        verdict = Verdict(errors=[f"cannot check the push: {exc}"])
    except Exception as exc:  # noqa: BLE001 - a bug must still refuse, and say so
        verdict = Verdict(errors=[f"internal error checking the push: {exc!r}"])
    sys.stderr.write(format_verdict(verdict))
    return 0 if verdict.accepted else 1


if __name__ == "__main__":
    sys.exit(main())
