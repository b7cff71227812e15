"""Publish and revert (SPEC §4 "Versions").

Order of writes, chosen so that a crash at any point is repairable (repair.py):
publish = validate the draft commit → tag → ``main`` → SQL row; revert = ``main`` →
SQL rows. Both run under ``config_lock`` (a kernel ``flock``, so threads, gunicorn
workers and ``ade repair`` take turns), and reconcile the config first so they decide
on an index that matches the refs. The partial unique index on ``published`` rows
and the immutability of tags remain the last line of defence: an IntegrityError or
an existing tag is a 409.
"""

from __future__ import annotations

import semver as semver_lib
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.models import DEPRECATED, DRAFT, PUBLISHED, Config, ConfigVersion
from app.services.configs import config_lock, open_repo, semver_key, version_dict
from app.services.context import Context
from app.services.errors import Conflict, Invalid
from app.services.manifest import problems_error
from app.services.repair import reconcile_config
from repos.errors import RepoError, TagExists
from repos.repo import ConfigRepo
from runner.checks import MANIFEST, Problem, check_package


def tree_problems(repo: ConfigRepo, commit: str) -> list[Problem]:
    """Every reason the tree at ``commit`` cannot be published: the store's tree
    rules, then the package check's errors (the same rule as a push)."""
    problems = [
        Problem("tree", "", "tree", message) for message in repo.check_tree(commit)
    ]
    if problems:
        return problems  # the package check reads files these rules may forbid
    files = repo.read_all(commit)
    paths = list(files)
    wanted = {p: d for p, d in files.items() if p.endswith(".py") or p == MANIFEST}
    return check_package(wanted, paths=paths).errors


def _check_semver(session, config: Config, repo: ConfigRepo, semver: str) -> None:
    if not semver_lib.Version.is_valid(semver):
        raise Invalid(
            "The semver is invalid.",
            errors={"semver": ["must be MAJOR.MINOR.PATCH[-pre][+build] (semver.org)"]},
        )
    earlier = {t.semver for t in repo.tags()}
    earlier |= set(
        session.scalars(
            select(ConfigVersion.semver).where(
                ConfigVersion.config_id == config.id,
                ConfigVersion.semver.is_not(None),
            )
        )
    )
    highest = max(earlier, key=semver_key, default=None)
    if highest is not None and semver_key(semver) <= semver_key(highest):
        raise Conflict(
            f"Version {semver} must be greater than every earlier version "
            f"(the highest is {highest}).",
            highest=highest,
        )


def publish(ctx: Context, config: Config, semver: str, message: str) -> dict:
    """Tag the draft as ``v<semver>``, move ``main``, record the row; the previous
    published version becomes deprecated. Invalid with every problem; a conflict
    when the semver is not the highest."""
    session, principal = ctx.session, ctx.caller()
    repo = open_repo(ctx, config)
    with config_lock(ctx.data_dir, config.id):
        reconcile_config(session, config, repo)
        _check_semver(session, config, repo, semver)
        commit = repo.resolve(DRAFT)  # check and tag this exact commit
        problems = tree_problems(repo, commit)
        if problems:
            raise problems_error("The draft", problems, by_file=True)
        try:
            tag = repo.publish(
                semver,
                message or f"Version {semver}",
                tagger=ctx.author(),
                ref=commit,
            )
        except TagExists:
            raise
        except RepoError:
            if semver not in {t.semver for t in repo.tags()}:
                raise  # nothing was written: the publish did not happen
            # The tag exists but moving main failed: finish the publish the way
            # the reconciler finishes an interrupted one (it rolls forward).
            return _finish_through_reconciler(session, config, repo, semver)
        previous = session.scalar(
            select(ConfigVersion).where(
                ConfigVersion.config_id == config.id,
                ConfigVersion.status == PUBLISHED,
            )
        )
        try:
            if previous is not None:
                previous.status = DEPRECATED
                session.flush()
            row = ConfigVersion(
                config_id=config.id,
                semver=semver,
                status=PUBLISHED,
                message=tag.message.rstrip("\n"),
                commit_sha=tag.commit,
                files_hash=tag.tree,
                created_by=principal.name,
                # The tag's time, as the reconciler records it for a row it
                # rebuilds from the tag: the first publish time, kept for good.
                published_at=tag.time,
            )
            session.add(row)
            session.commit()
        except IntegrityError as exc:
            # Only reachable if something bypassed the lock: let git decide.
            session.rollback()
            reconcile_config(session, config, repo)
            raise Conflict("A concurrent publish won; reload the versions.") from exc
        return version_dict(row)


def _finish_through_reconciler(session, config, repo, semver: str) -> dict:
    reconcile_config(session, config, repo)
    row = session.scalar(
        select(ConfigVersion).where(
            ConfigVersion.config_id == config.id, ConfigVersion.semver == semver
        )
    )
    return version_dict(row)


def repo_tag_time(repo: ConfigRepo, row: ConfigVersion):
    """The time of a version's tag (None if the tag is gone)."""
    return next((t.time for t in repo.tags() if t.semver == row.semver), None)


def revert(ctx: Context, config: Config) -> dict:
    """Deprecate the published version and publish the highest earlier one; ``main``
    moves back first. A conflict when there is nothing to revert to."""
    session = ctx.session
    repo = open_repo(ctx, config)
    with config_lock(ctx.data_dir, config.id):
        reconcile_config(session, config, repo)
        rows = session.scalars(
            select(ConfigVersion).where(
                ConfigVersion.config_id == config.id,
                ConfigVersion.status != DRAFT,
            )
        ).all()
        current = next((r for r in rows if r.status == PUBLISHED), None)
        if current is None:
            raise Conflict("Nothing is published; there is nothing to revert.")
        earlier = [r for r in rows if semver_key(r.semver) < semver_key(current.semver)]
        if not earlier:
            raise Conflict(
                f"{current.semver} is the first version; there is nothing to revert to."
            )
        target = max(earlier, key=lambda r: semver_key(r.semver))
        repo.set_main(f"refs/tags/v{target.semver}")
        current.status = DEPRECATED
        session.flush()
        target.status = PUBLISHED
        # published_at stays the version's first publish time (its tag's time);
        # the revert itself is the deprecation of ``current``.
        target.published_at = target.published_at or repo_tag_time(repo, target)
        session.commit()
        return {"published": version_dict(target), "deprecated": version_dict(current)}
