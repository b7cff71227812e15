# ruff: noqa: F811 - pytest fixtures imported from tests.draft_helpers
"""Lost updates: concurrent saves naming the same ETag, concurrent Add Column."""

from __future__ import annotations

import threading

from tests.draft_helpers import cfg, env  # noqa: F401 - fixtures

EMAIL = "columns/email.py"


def _together(calls):
    """Run the callables in threads released at the same moment; their results."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(i, call):
        barrier.wait()
        results[i] = call()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


def test_two_puts_with_the_same_if_match_one_wins(cfg):
    app = cfg.env.app
    for round_ in range(8):
        sha = cfg.file(EMAIL)["sha"]
        # The sha256 form in one of them: both forms must be checked atomically.
        tags = [sha, cfg.file(EMAIL)["sha256"]] if round_ % 2 else [sha, sha]

        def put(i, tag, round_=round_):
            client = app.test_client()
            return client.put(
                f"{cfg.base}/draft/files/{EMAIL}",
                json={"code": f"# round {round_} writer {i}\n"},
                headers=cfg.headers(**{"If-Match": tag}),
            )

        results = _together([lambda i=i, t=t: put(i, t) for i, t in enumerate(tags)])
        codes = sorted(r.status_code for r in results)
        assert codes == [200, 412], [r.json for r in results]
        winner = next(r for r in results if r.status_code == 200)
        loser = next(r for r in results if r.status_code == 412)
        assert loser.json["current_etag"] == winner.json["sha"]
        assert loser.headers["Retry-After"] == "1"
        assert cfg.file(EMAIL)["sha"] == winner.json["sha"]


def test_concurrent_add_columns_all_land_with_unique_ordinals(cfg):
    app = cfg.env.app
    keys = [f"field_{i}" for i in range(6)]

    def add(key):
        return app.test_client().post(
            f"{cfg.base}/draft/columns",
            json={"key": key, "label": key.title()},
            headers=cfg.headers(),
        )

    results = _together([lambda k=k: add(k) for k in keys])
    assert [r.status_code for r in results] == [201] * len(keys), [
        r.json for r in results
    ]
    manifest, _etag = cfg.manifest()
    by_key = {c["key"]: c for c in manifest["columns"]}
    assert set(keys) <= set(by_key)
    ordinals = [c["ordinal"] for c in manifest["columns"]]
    assert sorted(ordinals) == list(range(1, len(keys) + 2))
    listed = {f["path"] for f in cfg.get("/draft/files").json}
    assert {f"columns/{k}.py" for k in keys} <= listed


def test_delete_racing_a_manifest_patch_never_leaves_a_dangling_path(cfg):
    """A PATCH that starts naming a file and a DELETE of that file: whichever
    lands second sees the other, so the manifest never names a missing file."""
    app = cfg.env.app
    for i in range(6):
        path = f"columns/extra_{i}.py"
        cfg.post("/draft/files", {"path": path})
        manifest, _ = cfg.manifest()
        entry = {"key": f"extra_{i}", "label": "E", "path": path, "ordinal": 100 + i}
        patch = {"columns": [*manifest["columns"], entry]}

        def do_patch(patch=patch):
            return app.test_client().patch(
                f"{cfg.base}/draft/manifest",
                json=patch,
                headers=cfg.headers(),
            )

        def do_delete(path=path):
            return app.test_client().delete(
                f"{cfg.base}/draft/files/{path}", headers=cfg.headers()
            )

        patched, deleted = _together([do_patch, do_delete])
        assert {patched.status_code, deleted.status_code} in ({200, 409}, {400, 204})
        manifest, _ = cfg.manifest()
        listed = {f["path"] for f in cfg.get("/draft/files").json}
        assert all(c["path"] in listed for c in manifest["columns"])


def test_move_racing_a_manifest_patch_never_leaves_a_dangling_path(cfg):
    """A PATCH that starts naming a file and a move of that file: the move pins the
    manifest it saw, so either the patch lands first and the move carries the new
    reference along, or the move lands first and the patch (naming the old path) is
    refused. The manifest never names a missing file."""
    app = cfg.env.app
    for i in range(6):
        path, moved = f"columns/extra_{i}.py", f"columns/moved_{i}.py"
        sha = cfg.post("/draft/files", {"path": path}).json["sha"]
        manifest, _ = cfg.manifest()
        entry = {"key": f"extra_{i}", "label": "E", "path": path, "ordinal": 100 + i}
        patch = {"columns": [*manifest["columns"], entry]}

        def do_patch(patch=patch):
            return app.test_client().patch(
                f"{cfg.base}/draft/manifest", json=patch, headers=cfg.headers()
            )

        def do_move(path=path, moved=moved, sha=sha):
            return app.test_client().post(
                f"{cfg.base}/draft:move",
                json={"from": path, "to": moved},
                headers={**cfg.headers(), "If-Match": f'"{sha}"'},
            )

        patched, move = _together([do_patch, do_move])
        assert move.status_code == 200, move.json
        assert patched.status_code in (200, 400, 409), patched.json
        manifest, _ = cfg.manifest()
        listed = {f["path"] for f in cfg.get("/draft/files").json}
        assert moved in listed and path not in listed
        assert all(c["path"] in listed for c in manifest["columns"])
        named = {c["path"] for c in manifest["columns"]}
        if patched.status_code == 200:
            # Whichever order: a landed patch's entry follows the file.
            assert moved in named and move.json["manifest_updated"] is True
        else:
            assert path not in named and move.json["manifest_updated"] is False
