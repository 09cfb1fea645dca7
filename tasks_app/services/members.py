"""Members of a workspace: invitations (by link or e-mail), roles, removal, leaving, ownership, open sign-up.

The rules every skin gets from here: who may do it is the permission table's (`member.manage`; anything that makes
or unmakes an owner needs `member.owner`), and a workspace always keeps at least one owner. Changes to a
workspace's memberships lock its membership rows first, so two owners demoting each other at once cannot leave it
with none.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from tasks_app.choices import ROLE_RANK, Role
from tasks_app.errors import ApplicationError, NotFound, PermissionDenied
from tasks_app.models import Invitation, Membership, Workspace
from tasks_app.services.access import authorize, role_cache_forget
from tasks_app.services.audit import audit_record

INVITE_TTL = timedelta(days=7)
INVITE_TTL_CHOICES = {1: timedelta(days=1), 7: timedelta(days=7), 30: timedelta(days=30)}
LAST_OWNER = "A workspace needs an owner: make someone else owner first."
LAST_OWNER_LEAVING = "You are the last owner: make someone else owner before you leave."


def invitation_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _authorize_role_grant(*, actor, workspace: Workspace, role: Role | str) -> None:
    authorize(actor=actor, workspace=workspace, action="member.manage")
    if role == Role.OWNER:
        authorize(actor=actor, workspace=workspace, action="member.owner")


@transaction.atomic
def invitation_create(
    *,
    workspace: Workspace,
    actor: AbstractBaseUser | None,
    role: Role | str = Role.MEMBER,
    email: str = "",
    ttl: timedelta = INVITE_TTL,
    accept_url: str = "{token}",
) -> tuple[Invitation, str]:
    """An invitation and its token (the link's secret, kept only as a digest). With `email`, the link (`accept_url`
    with the token in place of `{token}`) is mailed once the transaction commits."""
    if role not in Role.values:
        raise ApplicationError("Choose a role: owner, admin, member or viewer.")
    _authorize_role_grant(actor=actor, workspace=workspace, role=role)
    email = email.strip()
    if email and ("@" not in email or len(email) > 254):
        raise ApplicationError("That e-mail address does not look right.")
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        workspace=workspace,
        role=role,
        email=email,
        digest=invitation_digest(token),
        created_by=actor if isinstance(actor, AbstractBaseUser) else None,
        expires_at=timezone.now() + ttl,
    )
    audit_record(
        workspace=workspace,
        actor=actor,
        verb="invitation.created",
        target=invitation,
        data={"role": str(role), "email": email, "expires_at": invitation.expires_at.isoformat()},
    )
    if email:
        link = accept_url.replace("{token}", token)
        inviter = actor.get_username() if isinstance(actor, AbstractBaseUser) else "An administrator"
        transaction.on_commit(
            lambda: send_mail(
                subject=f"You are invited to {workspace.name} on chunkr-web",
                message=(
                    f"{inviter} invited you to the workspace {workspace.name} as {role}.\n\n"
                    f"Accept the invitation here (the link works once, until "
                    f"{invitation.expires_at:%Y-%m-%d %H:%M} UTC):\n{link}\n"
                ),
                from_email=None,
                recipient_list=[email],
            )
        )
    return invitation, token


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, actor) -> Invitation:
    authorize(actor=actor, workspace=invitation.workspace, action="member.manage")
    if invitation.revoked_at is None and invitation.accepted_at is None:
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        audit_record(workspace=invitation.workspace, actor=actor, verb="invitation.revoked", target=invitation)
    return invitation


def invitation_problem(invitation: Invitation | None) -> str:
    """Why this invitation cannot be accepted, in words; "" when it can."""
    if invitation is None:
        return "This invitation link is not valid. Ask for a new one."
    if invitation.accepted_at is not None:
        return "This invitation has already been used. Ask for a new one if you still need to join."
    if invitation.revoked_at is not None:
        return "This invitation was withdrawn."
    if invitation.expires_at <= timezone.now():
        return "This invitation has expired. Ask for a new one."
    return ""


def account_create(*, username: str, password: str, email: str = "") -> AbstractBaseUser:
    """A new person's account, with Django's password rules; ApplicationError says what is wrong."""
    user_model = get_user_model()
    username = username.strip()
    if not username or len(username) > 150:
        raise ApplicationError("Choose a user name (up to 150 characters).")
    if user_model.objects.filter(username__iexact=username).exists():
        raise ApplicationError("That user name is taken. Choose another, or log in first if it is yours.")
    candidate = user_model(username=username, email=email.strip())
    try:
        password_validation.validate_password(password, user=candidate)
    except ValidationError as exc:
        raise ApplicationError(" ".join(exc.messages)) from None
    candidate.set_password(password)
    try:
        with transaction.atomic():
            candidate.save()
    except IntegrityError:
        raise ApplicationError("That user name is taken. Choose another.") from None
    return candidate


@transaction.atomic
def invitation_accept(
    *, token: str, user: AbstractBaseUser | None = None, username: str = "", password: str = "", email: str = ""
) -> Membership:
    """Use an invitation: the signed-in `user` joins, or a new account (`username`, `password`) is made and joins.
    Single use: the row is claimed with one conditional UPDATE, so two people racing for one link cannot both win."""
    invitation = Invitation.objects.select_related("workspace").filter(digest=invitation_digest(token)).first()
    problem = invitation_problem(invitation)
    if problem:
        raise ApplicationError(problem)
    if user is None:
        user = account_create(username=username, password=password, email=email or invitation.email)
    now = timezone.now()
    claimed = Invitation.objects.filter(
        pk=invitation.pk, accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now
    ).update(accepted_at=now, accepted_by=user)
    if not claimed:
        raise ApplicationError("This invitation has already been used. Ask for a new one if you still need to join.")
    membership = Membership.objects.filter(workspace=invitation.workspace, user=user).first()
    if membership is None:
        membership = Membership.objects.create(workspace=invitation.workspace, user=user, role=invitation.role)
    elif Role(invitation.role) != Role(membership.role) and _rank(invitation.role) > _rank(membership.role):
        membership.role = invitation.role  # an invitation never lowers a role someone already has
        membership.save(update_fields=["role"])
    role_cache_forget(user)
    audit_record(
        workspace=invitation.workspace,
        actor=user,
        verb="invitation.accepted",
        target=membership,
        data={"user": user.get_username(), "role": membership.role},
    )
    return membership


def _rank(role) -> int:
    return ROLE_RANK[Role(role)]


def _locked_memberships(workspace: Workspace) -> list[Membership]:
    return list(Membership.objects.select_for_update().filter(workspace=workspace).order_by("pk"))


def _owner_count(memberships: list[Membership]) -> int:
    return sum(1 for m in memberships if m.role == Role.OWNER)


@transaction.atomic
def member_role_set(*, membership: Membership, role: Role | str, actor) -> Membership:
    """Change a member's role. Making or unmaking an owner needs `member.owner`; the last owner keeps the role."""
    if role not in Role.values:
        raise ApplicationError("Choose a role: owner, admin, member or viewer.")
    workspace = membership.workspace
    authorize(actor=actor, workspace=workspace, action="member.manage")
    memberships = _locked_memberships(workspace)
    current = next((m for m in memberships if m.pk == membership.pk), None)
    if current is None:
        raise NotFound("No such member.")
    if Role.OWNER in (current.role, role):
        authorize(actor=actor, workspace=workspace, action="member.owner")
    if current.role == Role.OWNER and role != Role.OWNER and _owner_count(memberships) <= 1:
        raise ApplicationError(LAST_OWNER)
    if current.role != role:
        previous = current.role
        current.role = role
        current.save(update_fields=["role"])
        role_cache_forget(current.user)
        audit_record(
            workspace=workspace,
            actor=actor,
            verb="member.role_changed",
            target=current,
            data={"user": current.user.get_username(), "from": previous, "to": str(role)},
        )
    return current


@transaction.atomic
def member_remove(*, membership: Membership, actor) -> None:
    """Remove someone from the workspace (yourself: use member_leave). Removing an owner needs `member.owner`."""
    workspace = membership.workspace
    is_self = isinstance(actor, AbstractBaseUser) and actor.pk == membership.user_id
    if not is_self:
        authorize(actor=actor, workspace=workspace, action="member.manage")
    memberships = _locked_memberships(workspace)
    current = next((m for m in memberships if m.pk == membership.pk), None)
    if current is None:
        raise NotFound("No such member.")
    if current.role == Role.OWNER:
        if not is_self:
            authorize(actor=actor, workspace=workspace, action="member.owner")
        if _owner_count(memberships) <= 1:
            raise ApplicationError(
                LAST_OWNER if not is_self else "You are the last owner: make someone else owner first."
            )
    username = current.user.get_username()
    current.delete()
    role_cache_forget(current.user)
    audit_record(
        workspace=workspace,
        actor=actor,
        verb="member.left" if is_self else "member.removed",
        target=workspace,
        data={"user": username, "role": current.role},
    )


def member_leave(*, workspace: Workspace, user: AbstractBaseUser) -> None:
    membership = Membership.objects.filter(workspace=workspace, user=user).select_related("workspace", "user").first()
    if membership is None:
        raise NotFound("You are not a member of this workspace.")
    member_remove(membership=membership, actor=user)


@transaction.atomic
def ownership_transfer(*, workspace: Workspace, to: Membership, actor: AbstractBaseUser) -> Membership:
    """Make `to` an owner and the acting owner an admin, in one step."""
    authorize(actor=actor, workspace=workspace, action="member.owner")
    memberships = _locked_memberships(workspace)
    target = next((m for m in memberships if m.pk == to.pk), None)
    mine = next((m for m in memberships if m.user_id == actor.pk), None)
    if target is None or mine is None:
        raise NotFound("No such member.")
    if target.pk == mine.pk:
        raise ApplicationError("You already own this workspace.")
    target.role = Role.OWNER
    target.save(update_fields=["role"])
    mine.role = Role.ADMIN
    mine.save(update_fields=["role"])
    role_cache_forget(actor)
    role_cache_forget(target.user)
    audit_record(
        workspace=workspace,
        actor=actor,
        verb="member.ownership_transferred",
        target=target,
        data={"from": actor.get_username(), "to": target.user.get_username()},
    )
    return target


@transaction.atomic
def workspace_create_for(*, user: AbstractBaseUser, name: str) -> Workspace:
    """A new workspace owned by `user` (the workspace menu, and open sign-up's personal workspace)."""
    name = " ".join(name.split())[:120]
    if not name:
        raise ApplicationError("A workspace needs a name.")
    if Workspace.objects.filter(name__iexact=name).exists():
        raise ApplicationError(f"A workspace called {name!r} exists already. Choose another name.")
    workspace = Workspace.objects.create(name=name)
    Membership.objects.create(workspace=workspace, user=user, role=Role.OWNER)
    role_cache_forget(user)
    audit_record(workspace=workspace, actor=user, verb="workspace.created", target=workspace, data={"name": name})
    return workspace


def signup(*, username: str, password: str, email: str) -> tuple[AbstractBaseUser, Workspace]:
    """Open sign-up (off unless CHUNKR_OPEN_SIGNUP): an account and a personal workspace it owns."""
    if not settings.CHUNKR_OPEN_SIGNUP:
        raise PermissionDenied("Sign-up is closed on this server: ask an administrator for an invitation.")
    with transaction.atomic():
        user = account_create(username=username, password=password, email=email)
        base = f"{user.get_username()}'s workspace"
        name, n = base, 1
        while Workspace.objects.filter(name__iexact=name).exists():
            n += 1
            name = f"{base} {n}"
        workspace = workspace_create_for(user=user, name=name)
    return user, workspace
