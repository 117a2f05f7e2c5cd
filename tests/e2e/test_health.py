"""/healthz says the process is up; /readyz checks the database and Temporal for real."""

from __future__ import annotations

from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from tests.e2e.conftest import Api, make_settings, open_api


async def test_healthz_answers_without_touching_dependencies(api: Api) -> None:
    response = await api.client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_is_503_while_temporal_is_unreachable(api: Api) -> None:
    response = await api.client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "not ready", "database": True, "temporal": False}


async def test_readyz_is_200_with_database_and_temporal_up(
    database_url: str, tmp_path: Path, temporal_dev_env: WorkflowEnvironment
) -> None:
    address = temporal_dev_env.client.service_client.config.target_host
    async with open_api(make_settings(database_url, tmp_path, temporal_address=address)) as api:
        response = await api.client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "database": True, "temporal": True}
