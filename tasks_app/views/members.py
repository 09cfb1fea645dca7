"""Settings › Members and API keys."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from tasks_app.choices import Role
from tasks_app.errors import ApplicationError
from tasks_app.middleware import SESSION_KEY
from tasks_app.models import ApiKey, Invitation, Membership
from tasks_app.services.api_keys import api_key_create, api_key_revoke
from tasks_app.services.members import (
    INVITE_TTL_CHOICES,
    invitation_create,
    invitation_revoke,
    member_leave,
    member_remove,
    member_role_set,
    ownership_transfer,
)
from tasks_app.views.access import workspace_required

KEY_EXPIRY_CHOICES = [("", "Never"), ("7", "7 days"), ("30", "30 days"), ("90", "90 days"), ("365", "1 year")]


@require_GET
@workspace_required("workspace.read")
def settings_home(request):
    return redirect("settings-members")


@require_GET
@workspace_required("workspace.read")
def members_page(request):
    return _members_render(request, {})


@require_POST
@workspace_required("member.manage")
def invitation_create_view(request):
    """Invite by link (shown once) or by e-mail (the link is mailed), with a role and an expiry."""
    try:
        days = int(request.POST.get("expires_in_days") or 7)
        ttl = INVITE_TTL_CHOICES[days]
    except (ValueError, KeyError):
        return _members_render(request, {"invite_error": "Choose how long the link works from the list."}, status=400)
    try:
        invitation, token = invitation_create(
            workspace=request.workspace,
            actor=request.user,
            role=request.POST.get("role") or Role.MEMBER,
            email=request.POST.get("email", ""),
            ttl=ttl,
            accept_url=request.build_absolute_uri(reverse("invitation-accept", args=["TOKEN"])).replace(
                "TOKEN", "{token}"
            ),
        )
    except ApplicationError as exc:
        return _members_render(request, {"invite_error": exc.message}, status=exc.status)
    link = request.build_absolute_uri(reverse("invitation-accept", args=[token]))
    return _members_render(request, {"new_invitation": invitation, "invite_link": link})


@require_POST
@workspace_required("member.manage")
def invitation_revoke_view(request, invitation_id):
    invitation = get_object_or_404(Invitation, workspace=request.workspace, pk=invitation_id)
    invitation_revoke(invitation=invitation, actor=request.user)
    return _members_render(request, {})


@require_POST
@workspace_required("member.manage")
def member_role_view(request, membership_id):
    membership = _member_or_404(request, membership_id)
    try:
        member_role_set(membership=membership, role=request.POST.get("role", ""), actor=request.user)
    except ApplicationError as exc:
        return _members_render(request, {"member_error": exc.message}, status=exc.status)
    return _members_render(request, {})


@require_POST
@workspace_required("member.manage")
def member_remove_view(request, membership_id):
    membership = _member_or_404(request, membership_id)
    try:
        member_remove(membership=membership, actor=request.user)
    except ApplicationError as exc:
        return _members_render(request, {"member_error": exc.message}, status=exc.status)
    if membership.user_id == request.user.pk:
        return _leave_redirect(request)
    return _members_render(request, {})


@require_POST
@workspace_required("member.owner")
def ownership_transfer_view(request, membership_id):
    membership = _member_or_404(request, membership_id)
    try:
        ownership_transfer(workspace=request.workspace, to=membership, actor=request.user)
    except ApplicationError as exc:
        return _members_render(request, {"member_error": exc.message}, status=exc.status)
    request.membership.refresh_from_db()
    return _members_render(request, {})


@require_POST
@workspace_required("workspace.read")
def workspace_leave_view(request):
    try:
        member_leave(workspace=request.workspace, user=request.user)
    except ApplicationError as exc:
        return _members_render(request, {"member_error": exc.message}, status=exc.status)
    return _leave_redirect(request)


def _member_or_404(request, membership_id) -> Membership:
    queryset = Membership.objects.select_related("user", "workspace")
    return get_object_or_404(queryset, workspace=request.workspace, pk=membership_id)


def _leave_redirect(request):
    request.session.pop(SESSION_KEY, None)
    if request.htmx:
        return HttpResponseClientRedirect(reverse("tasks"))
    return redirect("tasks")


def _members_render(request, extra: dict, status: int = 200):
    now = timezone.now()
    context = {
        "nav": "settings",
        "tab": "members",
        "members": request.workspace.memberships.select_related("user").order_by("user__username"),
        "invitations": Invitation.objects.filter(
            workspace=request.workspace, accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now
        ).select_related("created_by"),
        "roles": Role.choices,
        "invite_expiry_choices": [(1, "1 day"), (7, "7 days"), (30, "30 days")],
        "owner_count": request.workspace.memberships.filter(role=Role.OWNER).count(),
        "email_configured": bool(settings.EMAIL_HOST),
    } | extra
    template = "tasks_app/settings/members.html" + ("#members" if request.htmx else "")
    return render(request, template, context, status=status)


@require_GET
@workspace_required("workspace.read")
def api_keys_page(request):
    return _keys_render(request, {})


@require_POST
@workspace_required("api_key.manage")
def api_key_create_view(request):
    """Create a key; its secret is shown once, with a copy button."""
    days = request.POST.get("expires_in_days", "")
    try:
        expires_at = timezone.now() + timedelta(days=int(days)) if days else None
        key, secret = api_key_create(
            workspace=request.workspace,
            name=request.POST.get("name", "").strip()[:120],
            created_by=request.user,
            role=request.POST.get("role") or Role.MEMBER,
            expires_at=expires_at,
        )
    except (ValueError, OverflowError):
        return _keys_render(request, {"key_error": "Choose an expiry from the list."}, status=400)
    except ApplicationError as exc:
        return _keys_render(request, {"key_error": exc.message}, status=400)
    return _keys_render(request, {"new_secret": secret, "new_key": key})


@require_POST
@workspace_required("api_key.manage")
def api_key_revoke_view(request, key_id):
    key = get_object_or_404(ApiKey, workspace=request.workspace, pk=key_id)
    api_key_revoke(key=key, actor=request.user)
    return _keys_render(request, {})


def _keys_render(request, extra: dict, status: int = 200):
    context = {
        "nav": "settings",
        "tab": "api-keys",
        "api_keys": ApiKey.objects.filter(workspace=request.workspace).select_related("created_by"),
        "api_base": request.build_absolute_uri("/api/v1"),
        "expiry_choices": KEY_EXPIRY_CHOICES,
        "now": timezone.now(),
    } | extra
    template = "tasks_app/settings/api_keys.html" + ("#api-keys" if request.htmx else "")
    return render(request, template, context, status=status)
