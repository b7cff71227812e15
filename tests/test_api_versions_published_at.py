"""A version's published_at is its first publish time (its tag's time): a revert
that makes it live again keeps it, and the reconciler, rebuilding a lost row from
the tag, writes the same value."""

from __future__ import annotations

from sqlalchemy import delete

from app.models import ConfigVersion
from app.services.repair import reconcile_all
from tests.conftest import bearer
from tests.versions_helpers import (
    create_config,
    index_rows,
    make_workspace,
    repo_of,
    save,
    ws_url,
)


def _versions(client, ws, config_id):
    resp = client.get(
        f"{ws_url(ws)}/configs/{config_id}/versions",
        headers=bearer(ws["tokens"]["viewer"]),
    )
    return {v["semver"]: v for v in resp.json if v["semver"]}


def test_revert_keeps_the_original_publish_time(app, client, admin_token):
    ws = make_workspace(client, admin_token, "acme")
    config = create_config(client, ws)
    url = f"{ws_url(ws)}/configs/{config['id']}"
    h = bearer(ws["tokens"]["publisher"])
    repo = repo_of(app, ws["id"], config["id"])
    assert (
        client.post(f"{url}/publish", json={"semver": "1.0.0"}, headers=h).status_code
        == 201
    )
    save(repo, "run.py", "# second\n")
    assert (
        client.post(f"{url}/publish", json={"semver": "1.0.1"}, headers=h).status_code
        == 201
    )
    first = _versions(client, ws, config["id"])
    tags = {t.semver: t for t in repo.tags()}
    assert first["1.0.0"]["published_at"] == tags["1.0.0"].time.isoformat()

    assert client.post(f"{url}/revert", headers=h).status_code == 200
    after = _versions(client, ws, config["id"])
    assert after["1.0.0"]["status"] == "published"
    assert after["1.0.0"]["published_at"] == first["1.0.0"]["published_at"]
    assert after["1.0.1"]["published_at"] == first["1.0.1"]["published_at"]

    # Lose the rows: the reconciler rebuilds them from the tags, times included.
    with app.app_context():
        session = app.extensions["ade.sessionmaker"]()
        session.execute(
            delete(ConfigVersion).where(
                ConfigVersion.config_id == config["id"],
                ConfigVersion.status != "draft",
            )
        )
        session.commit()
        session.close()
    reconcile_all(app.config)
    rebuilt = _versions(client, ws, config["id"])
    for semver in ("1.0.0", "1.0.1"):
        assert rebuilt[semver]["published_at"] == after[semver]["published_at"]
    assert len([r for r in index_rows(app, config["id"]) if r.semver]) == 2
