"""Inputs no generator builds: a JSON body nested beyond the recursion limit, on
every JSON operation of the OpenAPI document, is never a 5xx.

The generated fuzzing of the whole API (every check, against ``ade serve``) is
tests/test_api_conformance.py; this file keeps what hypothesis does not make.
"""

from __future__ import annotations

import pytest

from tests.draft_helpers import build_env, new_config

CONFIG_SLUG = "fuzzed"
KNOWN_PATH = "columns/email.py"  # named by the manifest, so it cannot be deleted


@pytest.fixture(scope="module")
def fuzz_env(tmp_path_factory):
    env = build_env(tmp_path_factory.mktemp("fuzz"))
    new_config(env, CONFIG_SLUG)
    return env


def test_json_nested_beyond_the_recursion_limit_is_never_a_5xx(fuzz_env):
    """Hypothesis does not build such bodies; every JSON operation gets one."""
    doc = fuzz_env.client.get("/api/v1/openapi.json").json
    abyss = '{"a": ' + "[" * 100_000 + "]" * 100_000 + "}"
    headers = {"Authorization": f"Bearer {fuzz_env.admin}"}
    tried = 0
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method not in ("post", "put", "patch"):
                continue
            content = (op.get("requestBody") or {}).get("content", {})
            ctype = next((c for c in content if "json" in c), None)
            if ctype is None:
                continue
            url = path.replace("{ws}", "acme").replace("{config_id}", CONFIG_SLUG)
            url = url.replace("{path}", KNOWN_PATH)
            for name in ("token_id", "version_id", "document_id", "job_id"):
                url = url.replace("{" + name + "}", "x")
            resp = fuzz_env.client.open(
                url,
                method=method.upper(),
                data=abyss,
                content_type=ctype,
                headers={**headers, "If-Match": "*"},
            )
            assert resp.status_code < 500, (method, url, resp.json)
            tried += 1
    assert tried >= 8
