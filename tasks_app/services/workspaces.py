from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from tasks_app.choices import Role
from tasks_app.models import Membership, Workspace
from tasks_app.services.audit import audit_record


@transaction.atomic
def workspace_get_or_create(*, name: str, actor: AbstractBaseUser | None = None) -> tuple[Workspace, bool]:
    name = name.strip()
    if not name:
        raise ValueError("A workspace needs a name.")
    workspace, created = Workspace.objects.get_or_create(name=name)
    if created:
        audit_record(workspace=workspace, actor=actor, verb="workspace.created", target=workspace)
    return workspace, created


@transaction.atomic
def membership_set(
    *, workspace: Workspace, user: AbstractBaseUser, role: Role, actor: AbstractBaseUser | None = None
) -> Membership:
    membership, _ = Membership.objects.update_or_create(workspace=workspace, user=user, defaults={"role": role})
    audit_record(
        workspace=workspace,
        actor=actor,
        verb="membership.set",
        target=membership,
        data={"user": user.get_username(), "role": str(role)},
    )
    return membership


@transaction.atomic
def user_get_or_create(*, username: str, password: str | None = None) -> tuple[AbstractBaseUser, bool]:
    user_model = get_user_model()
    user, created = user_model.objects.get_or_create(username=username)
    if created or password is not None:
        if password is None:
            user.set_unusable_password()
        else:
            user.set_password(password)
        user.save()
    return user, created


def user_password_set(*, user: AbstractBaseUser, password: str) -> None:
    user.set_password(password)
    user.save(update_fields=["password"])
