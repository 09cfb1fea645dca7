"""services/workspaces.py: workspaces, memberships and users, audited."""

import pytest

from tasks_app.choices import Role
from tasks_app.models import AuditEvent, Membership
from tasks_app.services.workspaces import (
    membership_set,
    user_get_or_create,
    user_password_set,
    workspace_get_or_create,
)

pytestmark = pytest.mark.django_db


def test_a_workspace_is_made_once_and_audited_once():
    first, created = workspace_get_or_create(name="  Initech ")
    again, created_again = workspace_get_or_create(name="Initech")
    assert (first.pk, first.name, created, created_again) == (again.pk, "Initech", True, False)
    assert AuditEvent.objects.filter(workspace=first, verb="workspace.created").count() == 1


def test_a_blank_workspace_name_is_refused():
    with pytest.raises(ValueError, match="needs a name"):
        workspace_get_or_create(name="   ")


def test_membership_set_changes_the_role_in_place(workspace):
    user, _ = user_get_or_create(username="bo", password="pw-bo-1234")
    membership_set(workspace=workspace, user=user, role=Role.VIEWER)
    membership_set(workspace=workspace, user=user, role=Role.ADMIN)
    assert list(Membership.objects.filter(user=user).values_list("role", flat=True)) == [Role.ADMIN]
    roles = [
        e.data["role"] for e in AuditEvent.objects.filter(workspace=workspace, verb="membership.set").order_by("pk")
    ]
    assert roles == [Role.VIEWER, Role.ADMIN]


def test_users_without_a_password_cannot_sign_in_until_one_is_set():
    user, created = user_get_or_create(username="cy")
    assert created and not user.has_usable_password()
    user_password_set(user=user, password="a-long-password-1")
    user.refresh_from_db()
    assert user.check_password("a-long-password-1")
    same, created_again = user_get_or_create(username="cy")
    assert not created_again and same.check_password("a-long-password-1")  # no password given: left alone
