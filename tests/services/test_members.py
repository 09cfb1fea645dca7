"""Members: invitations, roles, removal, leaving, ownership, sign-up — the rules in services/members.py."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from tasks_app.choices import Role
from tasks_app.errors import ApplicationError, PermissionDenied
from tasks_app.models import AuditEvent, Invitation, Membership
from tasks_app.services.members import (
    invitation_accept,
    invitation_create,
    invitation_revoke,
    member_leave,
    member_remove,
    member_role_set,
    ownership_transfer,
    signup,
    workspace_create_for,
)


@pytest.fixture
def owner(workspace, make_user):
    return make_user("olga", workspace=workspace, role=Role.OWNER)


@pytest.fixture
def admin(workspace, make_user):
    return make_user("adam", workspace=workspace, role=Role.ADMIN)


def membership(workspace, user) -> Membership:
    return Membership.objects.select_related("user", "workspace").get(workspace=workspace, user=user)


def test_an_invitation_link_makes_an_account_with_the_role_once(workspace, admin):
    invitation, token = invitation_create(workspace=workspace, actor=admin, role=Role.VIEWER)
    assert Invitation.objects.get().digest != token  # only the digest is kept
    joined = invitation_accept(token=token, username="nina", password="a-long-pass-phrase")
    assert joined.role == Role.VIEWER and joined.user.check_password("a-long-pass-phrase")
    invitation.refresh_from_db()
    assert invitation.accepted_by == joined.user and not invitation.is_open
    with pytest.raises(ApplicationError, match="already been used"):
        invitation_accept(token=token, username="nina2", password="a-long-pass-phrase")
    verbs = set(AuditEvent.objects.filter(workspace=workspace).values_list("verb", flat=True))
    assert {"invitation.created", "invitation.accepted"} <= verbs


def test_an_emailed_invitation_is_sent_after_commit_with_the_link(workspace, admin, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _, token = invitation_create(
            workspace=workspace, actor=admin, email="new@example.org", accept_url="https://c.example/invite/{token}/"
        )
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["new@example.org"] and "Acme" in message.subject
    assert f"https://c.example/invite/{token}/\n" in message.body
    joined = invitation_accept(token=token, username="newbie", password="a-long-pass-phrase")
    assert joined.user.email == "new@example.org"


def test_expired_and_withdrawn_invitations_are_refused_with_reasons(workspace, admin):
    old, old_token = invitation_create(workspace=workspace, actor=admin, ttl=timedelta(days=1))
    Invitation.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(ApplicationError, match="expired"):
        invitation_accept(token=old_token, username="late", password="a-long-pass-phrase")
    gone, gone_token = invitation_create(workspace=workspace, actor=admin)
    invitation_revoke(invitation=gone, actor=admin)
    with pytest.raises(ApplicationError, match="withdrawn"):
        invitation_accept(token=gone_token, username="late", password="a-long-pass-phrase")
    with pytest.raises(ApplicationError, match="not valid"):
        invitation_accept(token="made-up", username="late", password="a-long-pass-phrase")
    assert not Membership.objects.filter(user__username="late").exists()


def test_a_weak_password_or_taken_name_leaves_the_invitation_usable(workspace, admin, make_user):
    make_user("taken")
    _, token = invitation_create(workspace=workspace, actor=admin)
    with pytest.raises(ApplicationError, match="too short"):
        invitation_accept(token=token, username="fresh", password="short")
    with pytest.raises(ApplicationError, match="taken"):
        invitation_accept(token=token, username="Taken", password="a-long-pass-phrase")
    assert invitation_accept(token=token, username="fresh", password="a-long-pass-phrase").role == Role.MEMBER


def test_an_existing_user_joins_and_an_invitation_never_lowers_a_role(workspace, other_workspace, admin, make_user):
    bea = make_user("bea", workspace=other_workspace, role=Role.OWNER)
    _, token = invitation_create(workspace=workspace, actor=admin, role=Role.MEMBER)
    assert invitation_accept(token=token, user=bea).role == Role.MEMBER
    assert set(bea.memberships.values_list("workspace__name", flat=True)) == {"Acme", "Globex"}
    member_role_set(membership=membership(workspace, bea), role=Role.ADMIN, actor=admin)
    _, again = invitation_create(workspace=workspace, actor=admin, role=Role.VIEWER)
    assert invitation_accept(token=again, user=bea).role == Role.ADMIN


def test_members_and_viewers_cannot_invite_and_admins_cannot_invite_owners(workspace, admin, make_user):
    for role in (Role.MEMBER, Role.VIEWER):
        person = make_user(f"p-{role}", workspace=workspace, role=role)
        with pytest.raises(PermissionDenied):
            invitation_create(workspace=workspace, actor=person)
    with pytest.raises(PermissionDenied):
        invitation_create(workspace=workspace, actor=admin, role=Role.OWNER)
    assert not Invitation.objects.exists()


def test_the_last_owner_cannot_be_demoted_removed_or_leave(workspace, owner, admin):
    mine = membership(workspace, owner)
    with pytest.raises(ApplicationError, match="needs an owner"):
        member_role_set(membership=mine, role=Role.ADMIN, actor=owner)
    with pytest.raises(ApplicationError, match="last owner"):
        member_leave(workspace=workspace, user=owner)
    with pytest.raises(PermissionDenied):  # an admin may not touch owners at all
        member_remove(membership=mine, actor=admin)
    assert membership(workspace, owner).role == Role.OWNER


def test_admins_manage_members_below_owner_only(workspace, owner, admin, make_user):
    mia = make_user("mia", workspace=workspace, role=Role.MEMBER)
    assert member_role_set(membership=membership(workspace, mia), role=Role.VIEWER, actor=admin).role == Role.VIEWER
    with pytest.raises(PermissionDenied):
        member_role_set(membership=membership(workspace, mia), role=Role.OWNER, actor=admin)
    with pytest.raises(PermissionDenied):
        member_role_set(membership=membership(workspace, owner), role=Role.MEMBER, actor=admin)
    with pytest.raises(PermissionDenied):  # a member manages no one
        member_remove(membership=membership(workspace, admin), actor=mia)
    member_remove(membership=membership(workspace, mia), actor=admin)
    assert not Membership.objects.filter(user=mia).exists()
    event = AuditEvent.objects.filter(verb="member.removed").get()
    assert event.actor_user == admin and event.data == {"user": "mia", "role": "viewer"}


def test_ownership_moves_and_the_old_owner_can_then_leave(workspace, owner, admin):
    ownership_transfer(workspace=workspace, to=membership(workspace, admin), actor=owner)
    assert membership(workspace, admin).role == Role.OWNER and membership(workspace, owner).role == Role.ADMIN
    member_leave(workspace=workspace, user=owner)
    assert not Membership.objects.filter(workspace=workspace, user=owner).exists()
    with pytest.raises(PermissionDenied):  # no longer in it at all
        invitation_create(workspace=workspace, actor=owner)


def test_two_owners_can_demote_each_other_only_until_one_is_left(workspace, owner, make_user):
    second = make_user("otto", workspace=workspace, role=Role.OWNER)
    member_role_set(membership=membership(workspace, second), role=Role.ADMIN, actor=owner)
    with pytest.raises(ApplicationError, match="needs an owner"):
        member_role_set(membership=membership(workspace, owner), role=Role.ADMIN, actor=owner)


def test_sign_up_is_closed_by_default_and_gives_a_personal_workspace_when_open(db, settings):
    with pytest.raises(PermissionDenied, match="closed"):
        signup(username="sam", password="a-long-pass-phrase", email="sam@example.org")
    settings.CHUNKR_OPEN_SIGNUP = True
    user, workspace = signup(username="sam", password="a-long-pass-phrase", email="sam@example.org")
    assert workspace.name == "sam's workspace" and membership(workspace, user).role == Role.OWNER
    other = workspace_create_for(user=user, name="  Sam   Labs ")
    assert other.name == "Sam Labs"
    with pytest.raises(ApplicationError, match="exists already"):
        workspace_create_for(user=user, name="sam labs")


def test_the_invite_command_prints_a_link_that_makes_the_first_owner(db, capsys, settings):
    from django.core.management import call_command

    settings.PUBLIC_BASE_URL = "https://docs.example.org"
    call_command("invite", workspace="Initech", role="owner")
    link = capsys.readouterr().out.strip().splitlines()[-1]
    assert link.startswith("https://docs.example.org/invite/") and link.endswith("/")
    token = link.rstrip("/").rsplit("/", 1)[1]
    joined = invitation_accept(token=token, username="boss", password="a-long-pass-phrase")
    assert joined.role == Role.OWNER and joined.workspace.name == "Initech"


def test_the_key_command_makes_read_only_and_expiring_keys(db, capsys):
    from django.core.management import CommandError, call_command

    from tasks_app.models import ApiKey

    call_command("create_api_key", workspace="Initech", name="ro", role="viewer", expires_in_days=5)
    key = ApiKey.objects.get(name="ro")
    assert key.role == Role.VIEWER and timedelta(days=4) < key.expires_at - timezone.now() <= timedelta(days=5)
    with pytest.raises(CommandError, match="1 or more"):
        call_command("create_api_key", workspace="Initech", expires_in_days=0)
