from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from tasks_app.errors import ApplicationError
from tasks_app.permissions import KEY_ROLES
from tasks_app.services.api_keys import api_key_create
from tasks_app.services.workspaces import workspace_get_or_create


class Command(BaseCommand):
    help = "Create an API key for a workspace (created if needed). The key is printed as the last line."

    def add_arguments(self, parser):
        parser.add_argument("--workspace", required=True, help="Workspace name")
        parser.add_argument("--name", default="", help="A label for the key, shown in the dashboard")
        parser.add_argument(
            "--role", default="member", choices=[str(r) for r in KEY_ROLES], help="viewer: a read-only key"
        )
        parser.add_argument("--expires-in-days", type=int, default=None, help="The key stops working after this")

    def handle(self, *args, workspace: str, name: str, role: str, expires_in_days: int | None, **options):
        if not workspace.strip():
            raise CommandError("--workspace must not be empty.")
        if expires_in_days is not None and expires_in_days < 1:
            raise CommandError("--expires-in-days must be 1 or more.")
        ws, created = workspace_get_or_create(name=workspace)
        if created:
            self.stderr.write(f"Created workspace {ws.name!r}.")
        expires_at = timezone.now() + timedelta(days=expires_in_days) if expires_in_days else None
        try:
            key, secret = api_key_create(workspace=ws, name=name, role=role, expires_at=expires_at)
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        self.stderr.write(f"API key {key.prefix}… ({role}) for workspace {ws.name!r} (shown once; store it safely):")
        self.stdout.write(secret)
