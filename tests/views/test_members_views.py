"""Settings › Members, API keys and the audit log, and getting in: invitations, sign-up, password reset."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.http import HttpRequest
from django.utils import timezone

from tasks_app.choices import Role
from tasks_app.models import ApiKey, AuditEvent, Invitation, Membership
from tests.factories import parse_task, pdf_bytes

HX = {"HX-Request": "true"}


def login(client, user) -> None:
    client.login(request=HttpRequest(), username=user.username, password="pw-for-tests-1")


@pytest.fixture
def admin(client, workspace, make_user):
    user = make_user("ada", workspace=workspace, role=Role.ADMIN)
    login(client, user)
    return user


def invite_link(body: str) -> str:
    return re.search(r"data-invite-link>(http[^<]+)<", body).group(1)


def test_an_invitation_link_lets_a_new_person_in_once(client, admin, workspace):
    made = client.post("/settings/members/invite/", {"role": "viewer", "expires_in_days": "7"}, headers=HX)
    assert made.status_code == 200
    link = invite_link(made.content.decode())
    assert "data-invitation=" in made.content.decode()  # listed among the open invitations
    client.logout()
    page = client.get(link)
    assert page.status_code == 200 and "Acme" in page.content.decode() and "viewer" in page.content.decode()
    joined = client.post(link, {"username": "newt", "password": "a-long-pass-phrase", "email": "n@example.org"})
    assert joined.status_code == 302 and joined["Location"] == "/tasks/"
    assert client.get("/tasks/").status_code == 200  # signed in, in the workspace
    assert Membership.objects.get(user__username="newt").role == Role.VIEWER
    client.logout()
    reused = client.get(link)
    assert reused.status_code == 410 and "already been used" in reused.content.decode()
    again = client.post(link, {"username": "newt2", "password": "a-long-pass-phrase"})
    assert again.status_code == 410 and not Membership.objects.filter(user__username="newt2").exists()


def test_an_emailed_invitation_arrives_and_an_expired_one_is_refused(
    client, admin, workspace, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):  # mailed once the invitation is committed
        client.post("/settings/members/invite/", {"email": "eve@example.org", "role": "member", "expires_in_days": "1"})
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["eve@example.org"]
    link = re.search(r"(http://testserver/invite/\S+)", mail.outbox[0].body).group(1)
    Invitation.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    client.logout()
    expired = client.get(link)
    assert expired.status_code == 410 and "expired" in expired.content.decode()
    refused = client.post(link, {"username": "eve", "password": "a-long-pass-phrase"})
    assert refused.status_code == 410 and not Membership.objects.filter(user__username="eve").exists()
    assert client.get("/invite/not-a-real-token/").status_code == 404


def test_a_signed_in_person_joins_another_workspace_and_switches(client, admin, workspace, other_workspace, make_user):
    bob = make_user("bob", workspace=other_workspace, role=Role.OWNER)
    link = invite_link(client.post("/settings/members/invite/", {"role": "member"}).content.decode())
    client.logout()
    login(client, bob)
    assert "Join Acme as bob" in client.get(link).content.decode()
    assert client.post(link).status_code == 302
    page = client.get("/settings/members/").content.decode()
    assert 'data-workspace-option="Acme"' in page and 'data-workspace-option="Globex"' in page
    assert "You are member in Acme" in page  # the accepted workspace became the current one
    client.post("/workspace/switch/", {"workspace_id": str(other_workspace.pk)})
    assert "You are owner in Globex" in client.get("/settings/members/").content.decode()


def test_roles_change_members_go_and_the_last_owner_stays(client, workspace, make_user):
    owner = make_user("olga", workspace=workspace, role=Role.OWNER)
    mia = make_user("mia", workspace=workspace, role=Role.MEMBER)
    login(client, owner)
    mia_m = Membership.objects.get(user=mia)
    mine = Membership.objects.get(user=owner)
    assert client.post(f"/settings/members/{mia_m.pk}/role/", {"role": "admin"}, headers=HX).status_code == 200
    assert Membership.objects.get(pk=mia_m.pk).role == Role.ADMIN
    refused = client.post(f"/settings/members/{mine.pk}/role/", {"role": "member"}, headers=HX)
    assert refused.status_code == 400 and "needs an owner" in refused.content.decode()
    left = client.post("/settings/leave/", headers=HX)
    assert left.status_code == 400 and "last owner" in left.content.decode()
    assert client.post(f"/settings/members/{mia_m.pk}/owner/", headers=HX).status_code == 200
    assert Membership.objects.get(pk=mine.pk).role == Role.ADMIN
    assert client.post("/settings/leave/", headers=HX)["HX-Redirect"] == "/tasks/"
    assert not Membership.objects.filter(pk=mine.pk).exists()
    verbs = list(AuditEvent.objects.filter(workspace=workspace).values_list("verb", flat=True))
    assert {"member.role_changed", "member.ownership_transferred", "member.left"} <= set(verbs)


def test_api_keys_have_a_role_an_expiry_and_are_shown_once(client, admin, workspace):
    made = client.post("/settings/api-keys/new/", {"name": "reader", "role": "viewer", "expires_in_days": "30"})
    body = made.content.decode()
    secret = re.search(r"data-secret>(ck_[^<]+)<", body).group(1)
    assert 'data-copy-target="new-api-key"' in body
    key = ApiKey.objects.get(name="reader")
    assert key.role == Role.VIEWER and timedelta(days=29) < key.expires_at - timezone.now() <= timedelta(days=30)
    assert secret not in client.get("/settings/api-keys/").content.decode()  # never again
    auth = {"Authorization": secret}
    assert client.get("/api/v1/tasks", headers=auth).status_code == 200
    refused = client.post("/api/v1/tasks/parse", {"file": "x"}, content_type="application/json", headers=auth)
    assert refused.status_code == 403 and "viewer-only" in refused.json()["message"]
    ApiKey.objects.filter(pk=key.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get("/api/v1/tasks", headers=auth).status_code == 401
    task = parse_task(workspace, pdf_bytes("poll"))
    assert client.get(f"/api/v1/tasks/{task.pk}", headers=auth).status_code == 401  # the poll path checks expiry too
    assert "expired" in client.get("/settings/api-keys/").content.decode()
    bad = client.post("/settings/api-keys/new/", {"name": "x", "role": "owner"}, headers=HX)
    assert bad.status_code == 400 and "member or a viewer" in bad.content.decode()


def test_sign_up_is_off_by_default_and_makes_a_workspace_when_on(client, db, settings):
    assert client.get("/accounts/signup/").status_code == 404
    assert "Create an account" not in client.get("/accounts/login/").content.decode()
    settings.CHUNKR_OPEN_SIGNUP = True
    assert "Create an account" in client.get("/accounts/login/").content.decode()
    weak = client.post("/accounts/signup/", {"username": "sol", "password": "123"})
    assert weak.status_code == 400 and "too short" in weak.content.decode()
    done = client.post("/accounts/signup/", {"username": "sol", "password": "a-long-pass-phrase", "email": "s@x.org"})
    assert done.status_code == 302
    assert Membership.objects.get(user__username="sol").workspace.name == "sol's workspace"
    assert "sol&#x27;s workspace" in client.get("/settings/members/").content.decode()


def test_a_forgotten_password_is_reset_through_the_mailed_link(client, workspace, make_user):
    user = make_user("rita", workspace=workspace)
    user.email = "rita@example.org"
    user.save()
    assert client.post("/accounts/password_reset/", {"email": "rita@example.org"}).status_code == 302
    assert len(mail.outbox) == 1
    link = re.search(r"(http://testserver/accounts/reset/\S+)", mail.outbox[0].body).group(1)
    form = client.get(link, follow=True)
    assert "new_password1" in form.content.decode()
    done = client.post(
        form.redirect_chain[-1][0], {"new_password1": "brand-new-pass-99", "new_password2": "brand-new-pass-99"}
    )
    assert done.status_code == 302
    assert client.login(request=HttpRequest(), username="rita", password="brand-new-pass-99")
    assert "used or has expired" in client.get(link, follow=True).content.decode()  # a link works once


def test_the_audit_log_filters_by_kind_and_who_and_pages(client, admin, workspace, make_user):
    client.post("/settings/api-keys/new/", {"name": "etl"})
    client.post("/settings/members/invite/", {"role": "member"})
    for n in range(60):
        AuditEvent.objects.create(workspace=workspace, verb="task.created", target_type="task", target_id=str(n))
    page = client.get("/settings/audit/").content.decode()
    assert "data-audit-log" in page and "data-audit-pager" in page and "Page 1 of 2" in page
    keys = client.get("/settings/audit/?kind=keys").content.decode()
    assert keys.count('data-audit-event="api_key.created"') == 1 and "invitation.created" not in keys
    mine = client.get(f"/settings/audit/?actor=user:{admin.pk}").content.decode()
    assert "api_key.created" in mine and "invitation.created" in mine and "task.created" not in mine
    future = (timezone.now() + timedelta(days=2)).date().isoformat()
    assert "No events match" in client.get(f"/settings/audit/?since={future}").content.decode()
    assert client.get("/settings/audit/?since=garbage&page=999&actor=key:nope").status_code == 200


def test_the_workspace_menu_makes_a_workspace_and_switches_to_it(client, admin, workspace):
    made = client.post("/workspace/new/", {"workspace_name": "Acme Labs"})
    assert made.status_code == 302 and made["Location"] == "/settings/members/"
    page = client.get("/settings/members/").content.decode()
    assert "You are owner in Acme Labs" in page and 'data-workspace-option="Acme"' in page
    again = client.post("/workspace/new/", {"workspace_name": "acme labs"})
    assert again.status_code == 400 and "exists already" in again.content.decode()
    assert client.post("/workspace/new/", {"workspace_name": "   "}).status_code == 400
