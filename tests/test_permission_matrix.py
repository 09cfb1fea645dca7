"""The permission matrix, generated from the one table (tasks_app.permissions.PERMISSIONS): every role × every
dashboard route and every API route, plus another workspace's objects, which are always 404.

Nothing here lists routes by hand: the dashboard's come from tasks_app.urls, the API's from the NinjaAPI, and each
names its action (views: `view.permission`; routes: `auth=key_auth(action)`). A new route without an action fails
`test_every_route_names_an_action`; a new kind of id in a URL fails until `objects()` below knows how to make one.
"""

from __future__ import annotations

import re

import pytest
from django.db import transaction
from django.http import HttpRequest
from django.urls import URLPattern

from chunkr_web.api import api
from tasks_app import urls as dashboard_urls
from tasks_app.api.auth import ApiKeyAuth
from tasks_app.choices import Role
from tasks_app.models import (
    ExtractionSchema,
    Invitation,
    Membership,
    ParsePreset,
    SchemaComparison,
    Task,
    WebhookDelivery,
    WebhookEndpoint,
)
from tasks_app.permissions import KEY_ROLES, PERMISSIONS, role_allows
from tasks_app.services.api_keys import api_key_create
from tasks_app.services.workspaces import membership_set, user_get_or_create
from tests.factories import parse_task, pdf_bytes

# Routes that are no workspace action at all: the home redirect (a RedirectView).
NOT_WORKSPACE_ROUTES = {"home"}
# URL parts that are not objects of a workspace: another workspace's value is no test of scoping.
NOT_OBJECTS = {"page", "segment_id", "fmt", "action", "token"}


def dashboard_routes() -> list[URLPattern]:
    return [p for p in dashboard_urls.urlpatterns if p.name not in NOT_WORKSPACE_ROUTES]


def api_operations() -> list[tuple[str, str, object]]:
    found = []
    for prefix, router in api._routers:  # noqa: SLF001 - ninja keeps its routers here
        for path, path_view in router.path_operations.items():
            for operation in path_view.operations:
                for method in operation.methods:
                    found.append((method, prefix + path, operation))
    return found


def test_every_route_names_an_action():
    for pattern in dashboard_routes():
        assert hasattr(pattern.callback, "permission"), f"dashboard route {pattern.name!r} names no action"
        assert pattern.callback.permission in PERMISSIONS or pattern.callback.permission is None, pattern.name
    for method, path, operation in api_operations():
        callbacks = operation.auth_callbacks or []
        assert all(isinstance(c, ApiKeyAuth) for c in callbacks), f"{method} {path}: unknown authentication"
        assert all(c.action in PERMISSIONS for c in callbacks), f"{method} {path}"
        if not callbacks:
            assert path in {"/", "/health", "/ready", "/file-types"}, f"{method} {path} is open to anyone"
    assert {"task.read", "task.create", "member.manage", "member.owner", "webhook.manage"} <= {
        p.callback.permission for p in dashboard_routes()
    }


def objects(workspace, user, tag: str) -> dict[str, str]:
    """One object of each kind a URL can name, in `workspace`, made by `user`: the URL kwargs to reach them."""
    task = parse_task(workspace, pdf_bytes("matrix"))
    Task.objects.filter(pk=task.pk).update(created_by_user=user)  # members act on their own tasks
    key, _ = api_key_create(workspace=workspace, name=f"k-{tag}")
    endpoint = WebhookEndpoint.objects.create(workspace=workspace, url="https://example.org/h", secret="whsec_AAAA")
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint, task_id=task.pk, msg_id=f"msg_{tag}", event_type="task.parse.updated", payload={}
    )
    preset = ParsePreset.objects.create(workspace=workspace, name=f"p-{tag}", configuration={}, created_by=user)
    schema = ExtractionSchema.objects.create(
        workspace=workspace, name=f"schema-{tag}", schema={"type": "object", "properties": {}}
    )
    comparison = SchemaComparison.objects.create(
        workspace=workspace, schema_name=schema.name, base_version=1, new_version=1
    )
    invitation = Invitation.objects.create(workspace=workspace, digest=f"d-{tag}", expires_at=task.created_at)
    someone, _ = user_get_or_create(username=f"someone-{tag}")
    other = membership_set(workspace=workspace, user=someone, role=Role.VIEWER)
    return {
        "task_id": str(task.pk),
        "key_id": str(key.pk),
        "endpoint_id": str(endpoint.pk),
        "delivery_id": str(delivery.pk),
        "preset_id": str(preset.pk),
        "name": schema.name,
        "comparison_id": str(comparison.pk),
        "invitation_id": str(invitation.pk),
        "membership_id": str(other.pk),
        "page": "1",
        "segment_id": "s-1",
        "fmt": "json",
        "action": "cancel",
        "token": "not-a-token",
    }


def fill(pattern: URLPattern, values: dict[str, str]) -> str:
    route = str(pattern.pattern)
    names = re.findall(r"<(?:\w+:)?(\w+)>", route)
    missing = [n for n in names if n not in values]
    assert not missing, f"{pattern.name}: teach objects() to make a {missing}"
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: values[m.group(1)], route)


def call(client, url: str):
    """GET, or POST where the route takes only POST; every call rolled back so that routes don't change the world
    the next one sees (a role change, a removal, leaving the workspace)."""
    with transaction.atomic():
        response = client.get(url)
        if response.status_code == 405:
            response = client.post(url, {})
        transaction.set_rollback(True)
    return response


@pytest.mark.parametrize("role", list(Role))
def test_dashboard_routes_allow_exactly_what_the_table_allows_each_role(client, workspace, make_user, role):
    user = make_user(f"u-{role}", workspace=workspace, role=role)
    if role != Role.OWNER:
        make_user("the-owner", workspace=workspace, role=Role.OWNER)
    client.login(request=HttpRequest(), username=user.username, password="pw-for-tests-1")
    mine = objects(workspace, user, "a")
    wrong = []
    for pattern in dashboard_routes():
        action = pattern.callback.permission
        if action is None:
            continue
        response = call(client, fill(pattern, mine))
        allowed = role_allows(role, action)
        if (response.status_code == 403) == allowed:
            wrong.append(f"{pattern.name} ({action}): {response.status_code}, expected {'not ' if allowed else ''}403")
    assert not wrong, f"{role}:\n" + "\n".join(wrong)


def test_another_workspaces_objects_are_404_on_every_dashboard_route(client, workspace, other_workspace, make_user):
    owner = make_user("olive", workspace=workspace, role=Role.OWNER)
    stranger = make_user("stranger", workspace=other_workspace, role=Role.OWNER)
    client.login(request=HttpRequest(), username="olive", password="pw-for-tests-1")
    objects(workspace, owner, "a")
    theirs = objects(other_workspace, stranger, "b")
    checked, wrong = 0, []
    for pattern in dashboard_routes():
        names = set(re.findall(r"<(?:\w+:)?(\w+)>", str(pattern.pattern)))
        if pattern.callback.permission is None or not names - NOT_OBJECTS:
            continue
        response = call(client, fill(pattern, theirs))
        checked += 1
        if response.status_code != 404:
            wrong.append(f"{pattern.name}: {response.status_code}")
    assert checked >= 25 and not wrong, "\n".join(wrong)
    assert Membership.objects.filter(workspace=other_workspace).count() == 2  # nothing of theirs was touched


API_IDS = {"task_id", "job_id", "file_id"}


def api_url(path: str, task_id: str, file_id: str) -> str:
    return "/api/v1" + path.replace("{task_id}", task_id).replace("{job_id}", task_id).replace("{file_id}", file_id)


def api_call(client, method: str, url: str, secret: str):
    """An empty JSON body with the key, rolled back like `call`."""
    with transaction.atomic():
        response = client.generic(
            method, url, data="{}", content_type="application/json", headers={"Authorization": secret}
        )
        transaction.set_rollback(True)
    return response


@pytest.mark.parametrize("role", KEY_ROLES)
def test_api_routes_allow_exactly_what_the_table_allows_each_key_role(client, workspace, role):
    _, secret = api_key_create(workspace=workspace, name=f"{role} key", role=role)
    task = parse_task(workspace, pdf_bytes("api matrix"))
    wrong = []
    for method, path, operation in api_operations():
        if not operation.auth_callbacks:
            continue
        action = operation.auth_callbacks[0].action
        response = api_call(client, method, api_url(path, str(task.pk), str(task.input_file_id)), secret)
        allowed = role_allows(role, action)
        if (response.status_code == 403) == allowed or response.status_code == 401:
            wrong.append(f"{method} {path} ({action}): {response.status_code}")
        if not allowed:
            assert response.json()["code"] == "forbidden" and "viewer-only" in response.json()["message"]
    assert not wrong, f"{role} key:\n" + "\n".join(wrong)


def test_another_workspaces_ids_are_404_on_every_api_route(client, workspace, other_workspace):
    _, secret = api_key_create(workspace=workspace, name="ours")
    theirs = parse_task(other_workspace, pdf_bytes("theirs"))
    checked, wrong = 0, []
    for method, path, operation in api_operations():
        if not operation.auth_callbacks or not API_IDS & set(re.findall(r"{(\w+)}", path)):
            continue
        response = api_call(client, method, api_url(path, str(theirs.pk), str(theirs.input_file_id)), secret)
        checked += 1
        # Contract §5: a file that is not yours answers like a missing one, 401 file_not_found.
        expected = 401 if path.startswith("/files/") else 404
        if response.status_code != expected or response.status_code == 401 and "file" not in response.json()["code"]:
            wrong.append(f"{method} {path}: {response.status_code}")
    assert checked >= 14 and not wrong, "\n".join(wrong)
