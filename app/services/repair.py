"""The reconciler: make the SQL version index match the refs (SPEC §3).

Git is the truth. A publish writes the tag, moves ``main``, then writes the SQL row;
a revert moves ``main``, then the rows. A ``kill -9`` between any two steps is
repaired here, at server start, by ``ade repair`` and per config before each
publish/revert:

* every ``v<semver>`` tag gets its row (built from the tag) and every row whose tag
  is missing is deleted (docs/decisions.md);
* a tag without a row that is newer than every indexed version is an interrupted
  publish: it is rolled forward (``main`` moves to it), so a crash leaves the config
  fully published at the new version or not at all;
* exactly one row is ``published``: the version ``main`` points at (several tags on
  one commit: the SQL choice if consistent, else the highest semver); the rest are
  ``deprecated``; the draft row exists.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Mapping
from typing import Any

import semver as semver_lib
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import make_engine
from app.models import (
    DEPRECATED,
    DRAFT,
    PUBLISHED,
    Config,
    ConfigVersion,
    Workspace,
    utcnow,
)
from app.services.configs import config_lock, draft_row, semver_key
from app.services.context import make_store
from repos.errors import RepoNotFound
from repos.repo import ConfigRepo
from repos.store import Store
from repos.types import TagInfo

# A repo without a config row younger than this may be a create in progress.
ORPHAN_REPO_GRACE_SECONDS = 60


def reconcile_config(session: Session, config: Config, repo: ConfigRepo) -> list[str]:
    """Repair one config's rows (caller holds ``config_lock``); commit; return what
    changed as human-readable lines."""
    label = f"{config.workspace.slug}/{config.slug}"
    changes: list[str] = []
    tags = {t.semver: t for t in repo.tags() if semver_lib.Version.is_valid(t.semver)}
    rows = session.scalars(
        select(ConfigVersion).where(ConfigVersion.config_id == config.id)
    ).all()
    versions: dict[str, ConfigVersion] = {}
    for row in rows:
        if row.status == DRAFT:
            continue
        tag = tags.get(row.semver or "")
        if tag is None:
            session.delete(row)
            changes.append(f"{label}: removed row {row.semver} (its tag is missing)")
        else:
            versions[row.semver] = row
            if (row.commit_sha, row.files_hash) != (tag.commit, tag.tree):
                row.commit_sha, row.files_hash = tag.commit, tag.tree
                changes.append(f"{label}: {row.semver} re-pointed at its tag")
    session.flush()

    indexed_max = max((semver_key(s) for s in versions), default=None)
    missing = sorted((s for s in tags if s not in versions), key=semver_key)
    forward = None
    if missing and (indexed_max is None or semver_key(missing[-1]) > indexed_max):
        forward = missing[-1]  # an interrupted publish: finish it
    for semver in missing:
        versions[semver] = _row_from_tag(session, config, tags[semver])
        changes.append(f"{label}: created row {semver} from its tag")
    session.flush()

    target = _choose_published(repo, tags, versions, forward)
    if target is not None:
        target_commit = tags[target].commit
        if repo.main_commit() != target_commit:
            changes.append(f"{label}: main moved to v{target}")
        repo.set_main(f"refs/tags/v{target}")  # idempotent; also fixes HEAD
    changes += _apply_statuses(session, label, versions, target, tags)

    if not any(r.status == DRAFT for r in rows):
        session.add(draft_row(config.id, repo))
        changes.append(f"{label}: created the draft row")
    session.commit()
    return changes


def _row_from_tag(session: Session, config: Config, tag: TagInfo) -> ConfigVersion:
    row = ConfigVersion(
        config_id=config.id,
        semver=tag.semver,
        status=DEPRECATED,
        message=tag.message.rstrip("\n"),
        commit_sha=tag.commit,
        files_hash=tag.tree,
        created_by=tag.tagger.name,
        created_at=tag.time,
        published_at=tag.time,
    )
    session.add(row)
    return row


def _choose_published(
    repo: ConfigRepo,
    tags: dict[str, TagInfo],
    versions: dict[str, ConfigVersion],
    forward: str | None,
) -> str | None:
    if not tags:
        return None
    if forward is not None:
        return forward
    sql_choice = next((s for s, r in versions.items() if r.status == PUBLISHED), None)
    main = repo.main_commit()
    at_main = [s for s, t in tags.items() if t.commit == main]
    if sql_choice in at_main:
        return sql_choice
    if at_main:
        return max(at_main, key=semver_key)
    # main is absent or on an untagged commit: keep SQL's choice, else the newest.
    return sql_choice or max(tags, key=semver_key)


def _apply_statuses(
    session: Session,
    label: str,
    versions: dict[str, ConfigVersion],
    target: str | None,
    tags: dict[str, TagInfo],
) -> list[str]:
    changes = []
    # Demote first and flush: the partial unique index allows one published row.
    for semver, row in versions.items():
        if semver != target and row.status != DEPRECATED:
            row.status = DEPRECATED
            changes.append(f"{label}: {semver} marked deprecated")
    session.flush()
    if target is not None and versions[target].status != PUBLISHED:
        row = versions[target]
        row.status = PUBLISHED
        row.published_at = row.published_at or tags[target].time or utcnow()
        changes.append(f"{label}: {target} marked published")
        session.flush()
    return changes


def _remove_orphan_repos(session: Session, store: Store, now: float) -> list[str]:
    """Repos with no config row (a create or delete cut short by a crash)."""
    known = set(session.scalars(select(Config.id)))
    changes = []
    if not store.root.is_dir():
        return changes
    for ws_dir in sorted(p for p in store.root.iterdir() if p.is_dir()):
        for config_id in store.list_configs(ws_dir.name):
            path = store.repo_path(ws_dir.name, config_id)
            if config_id in known:
                continue
            if now - path.stat().st_mtime < ORPHAN_REPO_GRACE_SECONDS:
                continue
            shutil.rmtree(path, ignore_errors=True)
            changes.append(f"removed orphan repo {ws_dir.name}/{config_id}")
    return changes


def reconcile_all(settings: Mapping[str, Any]) -> list[str]:
    """Reconcile every config of the service ``settings`` describe; return what
    changed.

    It uses a private engine, disposed at the end: ``ade serve`` calls it before
    gunicorn forks, and a connection left in the app's pool would be inherited, and
    shared, by every worker."""
    engine = make_engine(settings["DATABASE_URL"])
    try:
        with Session(engine, expire_on_commit=False) as session:
            return _reconcile_all(session, make_store(settings), settings["DATA_DIR"])
    finally:
        engine.dispose()


def _reconcile_all(session: Session, store: Store, data_dir) -> list[str]:
    changes: list[str] = []
    configs = session.scalars(select(Config).order_by(Config.created_at)).all()
    for config in configs:
        try:
            repo = store.open(config.workspace_id, config.id)
        except RepoNotFound:
            ws = session.get(Workspace, config.workspace_id)
            slug = ws.slug if ws else config.workspace_id
            changes.append(f"{slug}/{config.slug}: repository missing (not repaired)")
            continue
        with config_lock(data_dir, config.id):
            changes += reconcile_config(session, config, repo)
    changes += _remove_orphan_repos(session, store, time.time())
    return changes
