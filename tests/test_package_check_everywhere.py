"""One rule for "is this config tree valid": the same broken trees through a manifest
save, the plan, a publish and a git push give the same problems from each."""

from __future__ import annotations

import json

import pytest

from runner.checks import Problem
from tests.conftest import bearer
from tests.git_http_helpers import AUTHOR, Git, running_site


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    with running_site(tmp_path_factory.mktemp("package-check")) as site:
        yield site


def _nan(m: dict) -> str:
    return json.dumps(m).replace('"min_score": 1.0', '"min_score": NaN')


def _unknown_key(m: dict) -> str:
    return json.dumps({**m, "colour": "blue"})


def _missing_column_file(m: dict) -> str:
    m["columns"][0]["path"] = "columns/missing.py"
    return json.dumps(m)


def _bad_pin(m: dict) -> str:
    return json.dumps({**m, "pins": {"numpy": 1, "ok": "1.0"}})


def _cycle(m: dict) -> str:
    m["columns"][0]["depends_on"] = ["other"]
    m["columns"].append(
        {"key": "other", "path": "columns/email.py", "ordinal": 2},
    )
    m["columns"][1]["depends_on"] = ["email"]
    return json.dumps(m)


BROKEN = {
    "nan": (_nan, "json"),
    "unknown_key": (_unknown_key, "manifest"),
    "missing_column_file": (_missing_column_file, "manifest"),
    "bad_pin": (_bad_pin, "manifest"),
    "cycle": (_cycle, "cycle"),
}


def _texts(problems: list[dict]) -> set[str]:
    return {Problem(**p).text() for p in problems if p["severity"] == "error"}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_the_same_problems_from_save_plan_publish_and_push(site, tmp_path, case):
    breaker, code = BROKEN[case]
    path, repo = site.config()
    config_id = repo.path.name.removesuffix(".git")
    api = f"/api/v1/workspaces/acme/configs/{config_id}"
    client = site.app.test_client()
    author, publisher = bearer(site.tokens["author"]), bearer(site.tokens["publisher"])
    current = client.get(f"{api}/draft/files/manifest.json", headers=author).json
    text = breaker(json.loads(current["code"]))

    # 1. A save through the API is refused, listing the problems.
    saved = client.put(
        f"{api}/draft/files/manifest.json",
        json={"code": text},
        headers={**author, "If-Match": current["sha"]},
    )
    assert saved.status_code == 400, saved.json
    from_save = _texts(saved.json["problems"])
    assert from_save and {p["code"] for p in saved.json["problems"]} >= {code}

    # 2. A push of that manifest is refused with the same lines.
    git = Git(tmp_path / "home")
    work = tmp_path / "work"
    git.run("clone", site.url(path, site.tokens["author"]), str(work))
    git.run("checkout", "-q", "draft", cwd=work)
    (work / "manifest.json").write_text(text)
    git.run("commit", "-qam", f"break: {case}", cwd=work)
    pushed = git.run("push", "origin", "draft", cwd=work, check=False)
    assert pushed.returncode != 0
    from_push = {
        line.removeprefix("remote:").strip()
        for line in pushed.stderr.splitlines()
        if line.startswith("remote:   ")
    }
    assert from_push == from_save, pushed.stderr

    # 3. The same tree on the draft (written behind the API): plan and publish.
    repo.write_file(
        "manifest.json",
        text.encode(),
        author=AUTHOR,
        expected_sha=repo.read_file("manifest.json").sha,
    )
    plan = client.post(f"{api}/draft:plan", headers=author).json
    assert _texts(plan["warnings"] + plan["errors"]) == from_save
    published = client.post(
        f"{api}/publish", json={"semver": "1.0.0"}, headers=publisher
    )
    assert published.status_code == 400, published.json
    assert _texts(published.json["problems"]) == from_save
