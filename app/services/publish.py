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

import json
from collections import defaultdict

import semver as semver_lib
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.auth import Principal
from app.db import get_session
from app.errors import Conflict, ValidationFailed
from app.models import Config, ConfigVersion, utcnow
from app.services.configs import config_lock, semver_key, version_dict
from app.services.repair import reconcile_config
from app.services.store import author_for, open_repo
from repos.errors import RepoError, TagExists
from repos.repo import ConfigRepo
from runner.guardrails import check_files
from runner.manifest import validate_manifest

MANIFEST = "manifest.json"


def tree_problems(repo: ConfigRepo, commit: str) -> tuple[dict, list[dict]]:
    """Every reason the tree at ``commit`` cannot be published: ``({path or "tree":
    [messages]}, guardrail findings as dicts)``; empty when it can."""
    errors: dict[str, list[str]] = defaultdict(list)
    errors["tree"] += repo.check_tree(commit)
    files = repo.read_all(commit)
    manifest = None
    if MANIFEST not in files:
        errors[MANIFEST].append("manifest.json is missing")
    else:
        try:
            manifest = json.loads(files[MANIFEST].decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            errors[MANIFEST].append(f"not valid JSON: {exc}")
    if manifest is not None:
        errors[MANIFEST] += validate_manifest(manifest, files.keys())
    pins = manifest.get("pins") if isinstance(manifest, dict) else None
    extra = list(pins) if isinstance(pins, dict) else []
    findings = check_files(files, extra_modules=extra)
    for f in findings:
        errors[f.path].append(f"line {f.line}, col {f.col}: {f.code}: {f.message}")
    return {k: v for k, v in errors.items() if v}, [f.to_dict() for f in findings]


def _check_semver(session, config: Config, repo: ConfigRepo, semver: str) -> None:
    if not semver_lib.Version.is_valid(semver):
        raise ValidationFailed(
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


def publish(config: Config, principal: Principal, semver: str, message: str) -> dict:
    """Tag the draft as ``v<semver>``, move ``main``, record the row; the previous
    published version becomes deprecated. 400 with every problem, 409 on order."""
    session = get_session()
    repo = open_repo(config)
    with config_lock(config.id):
        reconcile_config(session, config, repo)
        _check_semver(session, config, repo, semver)
        commit = repo.resolve("draft")  # validate and tag this exact commit
        errors, findings = tree_problems(repo, commit)
        if errors:
            raise ValidationFailed(
                "The draft cannot be published.", errors=errors, findings=findings
            )
        try:
            tag = repo.publish(
                semver,
                message or f"Version {semver}",
                tagger=author_for(principal),
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
                ConfigVersion.status == "published",
            )
        )
        try:
            if previous is not None:
                previous.status = "deprecated"
                session.flush()
            row = ConfigVersion(
                config_id=config.id,
                semver=semver,
                status="published",
                message=tag.message.rstrip("\n"),
                commit_sha=tag.commit,
                files_hash=tag.tree,
                created_by=principal.name,
                published_at=utcnow(),
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


def revert(config: Config) -> dict:
    """Deprecate the published version and publish the highest earlier one; ``main``
    moves back first. 409 when there is nothing to revert to."""
    session = get_session()
    repo = open_repo(config)
    with config_lock(config.id):
        reconcile_config(session, config, repo)
        rows = session.scalars(
            select(ConfigVersion).where(
                ConfigVersion.config_id == config.id,
                ConfigVersion.status != "draft",
            )
        ).all()
        current = next((r for r in rows if r.status == "published"), None)
        if current is None:
            raise Conflict("Nothing is published; there is nothing to revert.")
        earlier = [r for r in rows if semver_key(r.semver) < semver_key(current.semver)]
        if not earlier:
            raise Conflict(
                f"{current.semver} is the first version; there is nothing to revert to."
            )
        target = max(earlier, key=lambda r: semver_key(r.semver))
        repo.set_main(f"refs/tags/v{target.semver}")
        current.status = "deprecated"
        session.flush()
        target.status = "published"
        target.published_at = utcnow()
        session.commit()
        return {"published": version_dict(target), "deprecated": version_dict(current)}
