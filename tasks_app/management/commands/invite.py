from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from tasks_app.choices import Role
from tasks_app.errors import ApplicationError
from tasks_app.services.members import INVITE_TTL_CHOICES, invitation_create
from tasks_app.services.workspaces import workspace_get_or_create


class Command(BaseCommand):
    help = (
        "Invite someone to a workspace (created if needed) from the command line — the way to a server's first "
        "owner without the dashboard. The single-use link is printed as the last line."
    )

    def add_arguments(self, parser):
        parser.add_argument("--workspace", required=True, help="Workspace name")
        parser.add_argument("--role", default="member", choices=Role.values)
        parser.add_argument("--email", default="", help="Also mail the link (through EMAIL_HOST, or the console)")
        parser.add_argument("--days", type=int, default=7, choices=sorted(INVITE_TTL_CHOICES), help="Link lifetime")

    def handle(self, *args, workspace: str, role: str, email: str, days: int, **options):
        if not workspace.strip():
            raise CommandError("--workspace must not be empty.")
        ws, created = workspace_get_or_create(name=workspace)
        if created:
            self.stderr.write(f"Created workspace {ws.name!r}.")
        base = settings.PUBLIC_BASE_URL.rstrip("/") + reverse("invitation-accept", args=["TOKEN"])
        try:
            _, token = invitation_create(
                workspace=ws,
                actor=None,
                role=role,
                email=email,
                ttl=INVITE_TTL_CHOICES[days],
                accept_url=base.replace("TOKEN", "{token}"),
            )
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        self.stderr.write(f"Invitation to {ws.name!r} as {role}, valid {days} day(s), single use:")
        self.stdout.write(base.replace("TOKEN", token))
