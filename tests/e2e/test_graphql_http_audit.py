"""graphql-http's own audit of GraphQL over HTTP (the npm package `graphql-http`, pinned in
tests/graphql_http_audit/, installed by `make test`), run with Node against the API served
over real HTTP: every MUST and every SHOULD passes."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

from crm.settings import Settings
from tests.e2e.conftest import Api
from tests.fixtures.served_api import served

AUDIT_DIR = Path(__file__).parents[1] / "graphql_http_audit"


def node() -> str:
    path = shutil.which("node")
    assert path, "Node is not installed: run `make test` (it installs it with apt-get)"
    assert (AUDIT_DIR / "node_modules" / "graphql-http").is_dir(), (
        "graphql-http is not installed: run `make test` (npm ci in tests/graphql_http_audit)"
    )
    return path


async def test_graphql_http_audit_passes_every_must_and_should(
    api: Api, settings: Settings
) -> None:
    async with served(settings) as address:
        audit = await asyncio.create_subprocess_exec(
            node(),
            str(AUDIT_DIR / "audit.mjs"),
            f"http://{address}/graphql",
            cwd=AUDIT_DIR,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        async with asyncio.timeout(60):
            out, err = await audit.communicate()
    assert audit.returncode == 0, err.decode()
    results = [json.loads(line) for line in out.decode().splitlines()]

    assert len(results) > 40, results  # graphql-http 1.23 has about fifty
    failed = [
        f"{r['id']} {r['name']}: {r['reason']}"
        for r in results
        if r["name"].startswith(("MUST", "SHOULD")) and r["status"] != "ok"
    ]
    assert failed == []
