"""SDK tests: the official clients, unchanged, against a real server (pytest-django's live_server) and worker."""

from __future__ import annotations

from dataclasses import dataclass

import pytest


@dataclass(frozen=True)
class SdkServer:
    base_url: str  # what a user gives the SDK: http://127.0.0.1:<port>/api/v1
    api_key: str
    workspace: object


@pytest.fixture
def sdk_server(live_server, live_worker, workspace) -> SdkServer:
    from tasks_app.services.api_keys import api_key_create

    _, secret = api_key_create(workspace=workspace, name="sdk-tests")
    # live_server listens on localhost; the contract's documented base uses the literal address.
    return SdkServer(base_url=f"http://127.0.0.1:{live_server.thread.port}/api/v1", api_key=secret, workspace=workspace)
