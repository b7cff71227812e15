"""Fuzz the whole API from its OpenAPI document: no input may cause a 5xx.

schemathesis generates requests for every operation of ``/api/v1/openapi.json``
(in-process WSGI), as an instance admin, against a workspace and a config that
exist, so generated bodies, headers and file paths reach the views instead of
stopping at a 404. Valid and invalid (negative) inputs, a few examples each per
operation, derandomized (the same cases every run, however busy the machine: no time
budget that a loaded machine runs out of); every failing operation is reported, not
only the first. (schemathesis' lazy pytest loader does not run on pytest 9 — it sets
``node._nodeid`` — so the operations are driven here with plain hypothesis.)
Run with ``-s`` to see the status codes each operation answered.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig

from app.models import Workspace
from tests.draft_helpers import build_env, new_config

CONFIG_SLUG = "fuzzed"
KNOWN_PATH = "columns/email.py"  # named by the manifest, so it cannot be deleted
POSITIVE, NEGATIVE, KNOWN = "positive", "negative", "known-path"
EXAMPLES = {POSITIVE: 15, NEGATIVE: 8, KNOWN: 8}
# Renaming or deleting a workspace would take ``acme`` away from every later
# operation: PATCH and DELETE /workspaces/{ws} act on this one, restored after each.
SCRATCH = "fuzz-scratch"
WORKSPACE_OP = "/api/v1/workspaces/{ws}"


def _restore_scratch(env) -> None:
    with env.app.app_context():
        session = env.app.extensions["ade.sessionmaker"]()
        workspace = session.get(Workspace, SCRATCH)
        if workspace is None:
            session.add(Workspace(id=SCRATCH, slug=SCRATCH, name="Scratch"))
        else:
            workspace.slug = SCRATCH
        session.commit()
        session.close()


@pytest.fixture(scope="module")
def fuzz_env(tmp_path_factory):
    env = build_env(tmp_path_factory.mktemp("fuzz"))
    new_config(env, CONFIG_SLUG)
    return env


def _load_schema(env):
    config = SchemathesisConfig.from_dict(
        {"headers": {"Authorization": f"Bearer {env.admin}"}}
    )
    return schemathesis.openapi.from_wsgi(
        "/api/v1/openapi.json", env.app, config=config
    )


def _modes(operation) -> list[str]:
    names = {p.name for p in operation.path_parameters}
    modes = [POSITIVE]
    # Invalid path parameters and headers are just other strings to this API (and
    # hypothesis spends seconds proving some cannot be made invalid): negative
    # cases only where there is a body or a query to break.
    if list(operation.body) or list(operation.query):
        modes.append(NEGATIVE)
    if "path" in names:
        modes.append(KNOWN)  # a file that exists: reaches If-Match/412 and 200
    return modes


def _fuzz(operation, mode, env, headers, seen) -> None:
    fixed = {"ws": "acme", "config_id": CONFIG_SLUG}
    scratch = operation.path == WORKSPACE_OP and operation.method.upper() != "GET"
    if scratch:
        _restore_scratch(env)
        fixed["ws"] = SCRATCH
    if mode == KNOWN:
        fixed["path"] = KNOWN_PATH
    names = {p.name for p in operation.path_parameters}
    strategy = operation.as_strategy(
        generation_mode=(
            GenerationMode.NEGATIVE if mode == NEGATIVE else GenerationMode.POSITIVE
        ),
        path_parameters={k: v for k, v in fixed.items() if k in names} or None,
    )

    @given(case=strategy)
    @settings(
        max_examples=EXAMPLES[mode],
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case):
        response = case.call(headers=headers)
        seen.setdefault(operation.label, set()).add(response.status_code)
        case.validate_response(response, checks=[not_a_server_error])
        if (
            case.method == "DELETE"
            and case.path.endswith("/configs/{config_id}")
            and response.status_code == 204
        ):
            new_config(env, CONFIG_SLUG)  # keep the other operations reachable
        if scratch:
            _restore_scratch(env)

    run()


@pytest.mark.timeout(600)  # a hang guard: ~10 s on an idle machine
def test_no_input_causes_a_server_error(fuzz_env):
    schema = _load_schema(fuzz_env)
    headers = {"Authorization": f"Bearer {fuzz_env.admin}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 10
    failures, seen = [], {}
    for operation in operations:
        for mode in _modes(operation):
            try:
                _fuzz(operation, mode, fuzz_env, headers, seen)
            except Unsatisfiable:
                pass  # nothing left to vary (e.g. no body and no parameters)
            except Exception as exc:  # noqa: BLE001 - collect every failure
                failures.append(f"{operation.label} [{mode}]: {exc}")
    for label, codes in seen.items():
        print(f"{label}: {sorted(codes)}")
    assert not failures, "\n\n".join(failures)
    draft = "/api/v1/workspaces/{ws}/configs/{config_id}/draft"
    assert 200 in seen[f"GET {draft}/files/{{path}}"]  # the fuzzer reached the views
    assert 412 in seen[f"PUT {draft}/files/{{path}}"]


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
