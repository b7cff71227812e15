"""The reconciler: after a crash between the git and SQL steps of publish/revert,
the index is made to match the refs (SPEC §3)."""

from __future__ import annotations

import os
import time

import pytest
from sqlalchemy import delete, update

from app.commands import repair_command
from app.models import ConfigVersion
from app.services.repair import reconcile_all
from tests.conftest import bearer
from tests.repos_helpers import git
from tests.versions_helpers import (
    AUTHOR,
    assert_git_matches_sql,
    create_config,
    index_rows,
    repo_of,
    save,
    ws_url,
)


@pytest.fixture
def cfg(client, workspace):
    return create_config(client, workspace)


@pytest.fixture
def repo(app, workspace, cfg):
    return repo_of(app, workspace["id"], cfg["id"])


@pytest.fixture
def publish(client, workspace, cfg):
    url = f"{ws_url(workspace)}/configs/{cfg['id']}"
    headers = bearer(workspace["tokens"]["publisher"])

    def run(semver: str) -> dict:
        resp = client.post(f"{url}/publish", json={"semver": semver}, headers=headers)
        assert resp.status_code == 201, resp.json
        return resp.json

    run.url = url
    run.headers = headers
    return run


def reconcile(app) -> list[str]:
    return reconcile_all(app.config)


def statuses(app, cfg) -> dict:
    return {r.semver: r.status for r in index_rows(app, cfg["id"])}


def sql(app, statement) -> None:
    with app.app_context():
        with app.extensions["ade.engine"].begin() as conn:
            conn.execute(statement)


def test_clean_index_needs_no_repair(app, cfg, repo, publish):
    publish("1.0.0")
    assert reconcile(app) == []


def test_tag_without_row_and_main_not_moved_is_rolled_forward(app, cfg, repo, publish):
    publish("1.0.0")
    commit = save(repo, "startup.py", "# 1.1\n")
    # The crash: the tag exists, main and SQL were never touched.
    git(
        repo.path,
        "-c",
        "user.name=P",
        "-c",
        "user.email=p@x",
        "tag",
        "-a",
        "v1.1.0",
        "-m",
        "Interrupted",
        commit,
    )
    changes = reconcile(app)
    assert any("created row 1.1.0" in c for c in changes)
    assert repo.main_commit() == commit
    assert statuses(app, cfg) == {
        None: "draft",
        "1.0.0": "deprecated",
        "1.1.0": "published",
    }
    row = next(r for r in index_rows(app, cfg["id"]) if r.semver == "1.1.0")
    assert row.message == "Interrupted" and row.created_by == "P"
    assert_git_matches_sql(repo, index_rows(app, cfg["id"]))
    assert reconcile(app) == []  # idempotent


def test_first_publish_cut_after_the_tag_is_completed(app, cfg, repo):
    git(
        repo.path,
        "-c",
        "user.name=P",
        "-c",
        "user.email=p@x",
        "tag",
        "-a",
        "v1.0.0",
        "-m",
        "first",
        "draft",
    )
    reconcile(app)
    assert (repo.path / "HEAD").read_text().strip() == "ref: refs/heads/main"
    assert statuses(app, cfg) == {None: "draft", "1.0.0": "published"}


def test_tag_and_main_without_row(app, cfg, repo, publish):
    publish("1.0.0")
    save(repo, "startup.py", "# 2\n")
    repo.publish("2.0.0", "no row yet", tagger=AUTHOR)  # tag + main, SQL never ran
    reconcile(app)
    assert statuses(app, cfg) == {
        None: "draft",
        "1.0.0": "deprecated",
        "2.0.0": "published",
    }
    assert_git_matches_sql(repo, index_rows(app, cfg["id"]))


def test_revert_cut_after_main_moved(app, cfg, repo, publish):
    publish("1.0.0")
    save(repo, "startup.py", "# 2\n")
    publish("2.0.0")
    repo.set_main("refs/tags/v1.0.0")  # SQL still says 2.0.0
    changes = reconcile(app)
    assert "1.0.0 marked published" in " ".join(changes)
    assert statuses(app, cfg) == {
        None: "draft",
        "1.0.0": "published",
        "2.0.0": "deprecated",
    }


def test_row_whose_tag_is_gone_is_removed_and_main_follows(app, cfg, repo, publish):
    v1 = publish("1.0.0")
    save(repo, "startup.py", "# 2\n")
    publish("2.0.0")
    git(repo.path, "tag", "-d", "v2.0.0")
    changes = reconcile(app)
    assert any("removed row 2.0.0" in c for c in changes)
    assert statuses(app, cfg) == {None: "draft", "1.0.0": "published"}
    assert repo.main_commit() == v1["commit"]


def test_tags_sharing_a_commit_keep_a_consistent_sql_choice(app, cfg, repo, publish):
    publish("1.0.0")
    publish("1.0.1")  # same tree, same commit
    client = app.test_client()
    assert (
        client.post(f"{publish.url}/revert", headers=publish.headers).status_code == 200
    )
    assert reconcile(app) == []  # 1.0.0 published is consistent with main
    assert statuses(app, cfg)["1.0.0"] == "published"
    # No published row at all: the highest semver at main's commit wins.
    sql(
        app,
        update(ConfigVersion)
        .where(ConfigVersion.status == "published")
        .values(status="deprecated"),
    )
    reconcile(app)
    assert statuses(app, cfg)["1.0.1"] == "published"


def test_missing_draft_row_is_recreated(app, cfg, repo):
    sql(app, delete(ConfigVersion).where(ConfigVersion.config_id == cfg["id"]))
    assert any("draft row" in c for c in reconcile(app))
    assert statuses(app, cfg) == {None: "draft"}


def test_orphan_repo_is_removed_after_a_grace_period(app, workspace, cfg):
    store_root = app.config["DATA_DIR"] / "repos" / workspace["id"]
    young = store_root / "0123456789abcdef0123456789abcdef.git"
    old = store_root / "fedcba9876543210fedcba9876543210.git"
    for path in (young, old):
        git(store_root, "init", "--bare", "-q", path.name)
    past = time.time() - 3600
    os.utime(old, (past, past))
    changes = reconcile(app)
    assert changes == [f"removed orphan repo {workspace['id']}/{old.name[:-4]}"]
    assert young.exists() and not old.exists()


def test_ade_repair_prints_changes(app, cfg, repo, publish):
    publish("1.0.0")
    sql(app, delete(ConfigVersion).where(ConfigVersion.semver == "1.0.0"))
    runner = app.test_cli_runner()
    result = runner.invoke(repair_command)
    assert result.exit_code == 0, result.output
    assert "created row 1.0.0 from its tag" in result.output
    assert "1.0.0 marked published" in result.output
    result = runner.invoke(repair_command)
    assert "nothing to repair" in result.output


def test_publish_whose_main_cannot_move_is_finished_by_the_reconciler(
    app, cfg, repo, publish
):
    from repos.store import Store

    publish("1.0.0")
    save(repo, "startup.py", "# 1.1\n")
    # A writer holds main's lock and keeps it (fresh, so never "stale"): the tag
    # is written, moving main gives up quickly.
    app.extensions["ade.store"] = Store(
        app.config["DATA_DIR"] / "repos", retry_seconds=0.3, stale_lock_seconds=3600
    )
    lock = repo.path / "refs" / "heads" / "main.lock"
    lock.write_text("held\n")
    client = app.test_client()
    resp = client.post(
        f"{publish.url}/publish", json={"semver": "1.1.0"}, headers=publish.headers
    )
    assert resp.status_code == 409, resp.json
    assert "1.1.0" in {t.semver for t in repo.tags()}
    assert statuses(app, cfg)["1.0.0"] == "published"
    lock.unlink()
    reconcile(app)  # what `ade serve` / `ade repair` would do next
    assert statuses(app, cfg) == {
        None: "draft",
        "1.0.0": "deprecated",
        "1.1.0": "published",
    }
    assert_git_matches_sql(repo, index_rows(app, cfg["id"]))
