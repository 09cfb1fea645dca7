import pytest
from django.http import HttpRequest

from tasks_app.choices import Role
from tasks_app.models import ApiKey


def test_root_sends_anonymous_users_to_the_login_page(client, db):
    response = client.get("/", follow=True)
    assert response.redirect_chain[-1][0].startswith("/accounts/login/")
    body = response.content.decode()
    assert 'name="username"' in body and 'name="password"' in body


def test_login_then_navigation_and_vendored_htmx(client, workspace, make_user):
    make_user("alice", workspace=workspace, role=Role.MEMBER)
    response = client.post("/accounts/login/", {"username": "alice", "password": "pw-for-tests-1"}, follow=True)
    body = response.content.decode()
    assert response.status_code == 200
    for label in ("Tasks", "Upload", "Schemas", "Settings"):
        assert f">{label}</a>" in body
    assert "/static/django_htmx/htmx-2.min.js" in body  # served locally, no CDN
    assert "X-CSRFToken" in body
    assert "Acme" in body


def test_htmx_request_with_expired_session_gets_a_client_redirect(client, db):
    response = client.get("/tasks/", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response["HX-Redirect"] == "/accounts/login/"


def test_user_without_workspace_sees_an_explanation(client, make_user):
    make_user("loner")
    client.login(request=HttpRequest(), username="loner", password="pw-for-tests-1")
    response = client.get("/tasks/")
    assert response.status_code == 403
    assert "not in a workspace" in response.content.decode()


@pytest.mark.parametrize(("role", "allowed"), [(Role.ADMIN, True), (Role.MEMBER, False), (Role.VIEWER, False)])
def test_only_admins_create_api_keys(client, workspace, make_user, role, allowed):
    make_user("bob", workspace=workspace, role=role)
    client.login(request=HttpRequest(), username="bob", password="pw-for-tests-1")
    response = client.post("/settings/api-keys/new/", {"name": "etl"}, headers={"HX-Request": "true"})
    assert (response.status_code == 200) is allowed
    assert ApiKey.objects.filter(workspace=workspace, name="etl").exists() is allowed
    if allowed:
        body = response.content.decode()
        assert 'id="api-keys"' in body and "<html" not in body  # the partial, not the page
        assert "ck_" in body


def test_viewer_cannot_open_upload(client, workspace, make_user):
    make_user("vera", workspace=workspace, role=Role.VIEWER)
    client.login(request=HttpRequest(), username="vera", password="pw-for-tests-1")
    assert client.get("/upload/").status_code == 403
    assert client.get("/tasks/").status_code == 200


def test_admin_adds_a_webhook_and_sees_its_secret(client, workspace, make_user, settings):
    settings.CHUNKR_OUTBOUND_ALLOW_HOSTS = ["localhost"]
    make_user("ada", workspace=workspace, role=Role.ADMIN)
    client.login(request=HttpRequest(), username="ada", password="pw-for-tests-1")
    refused = client.post("/settings/webhooks/", {"url": "http://127.0.0.1/x"}, headers={"HX-Request": "true"})
    assert "private or local address" in refused.content.decode()
    from tasks_app.models import WebhookEndpoint

    assert not WebhookEndpoint.objects.exists()
    ok = client.post(
        "/settings/webhooks/",
        {"url": "http://localhost/x", "events": ["task.parse.updated"]},
        headers={"HX-Request": "true"},
    )
    body = ok.content.decode()
    secret = WebhookEndpoint.objects.get().secret
    assert ok.status_code == 200 and 'id="webhooks"' in body and f"data-webhook-secret>{secret}<" in body


def test_guessing_a_password_locks_that_name_out_from_that_address(client, workspace, make_user, settings):
    make_user("gus", workspace=workspace)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        answer = client.post("/accounts/login/", {"username": "gus", "password": "wrong"})
        assert answer.status_code == 200 and "didn't match" in answer.content.decode()
    last = client.post("/accounts/login/", {"username": "gus", "password": "wrong"})
    assert last.status_code == 429  # the limit-th failure locks
    locked = client.post("/accounts/login/", {"username": "gus", "password": "pw-for-tests-1"})
    assert locked.status_code == 429 and "Too many failed logins" in locked.content.decode()
    # Another user name from the same address is not locked, and a success resets its count.
    make_user("hal", workspace=workspace)
    ok = client.post("/accounts/login/", {"username": "hal", "password": "pw-for-tests-1"})
    assert ok.status_code == 302


def test_dashboard_pages_carry_a_script_policy_that_forbids_inline_code(client, workspace, make_user):
    client.force_login(make_user("cy", workspace=workspace))
    for url in ("/tasks/", "/upload/", "/schemas/", "/review/", "/settings/", "/accounts/login/"):
        policy = client.get(url)["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
        assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
    assert "Content-Security-Policy" not in client.get("/api/v1/health")  # JSON and text answers need none
