from django.core.management.base import BaseCommand, CommandError

from tasks_app.services.api_keys import api_key_create
from tasks_app.services.workspaces import workspace_get_or_create


class Command(BaseCommand):
    help = "Create an API key for a workspace (created if needed). The key is printed as the last line."

    def add_arguments(self, parser):
        parser.add_argument("--workspace", required=True, help="Workspace name")
        parser.add_argument("--name", default="", help="A label for the key, shown in the dashboard")

    def handle(self, *args, workspace: str, name: str, **options):
        if not workspace.strip():
            raise CommandError("--workspace must not be empty.")
        ws, created = workspace_get_or_create(name=workspace)
        if created:
            self.stderr.write(f"Created workspace {ws.name!r}.")
        key, secret = api_key_create(workspace=ws, name=name)
        self.stderr.write(f"API key {key.prefix}… for workspace {ws.name!r} (shown once; store it safely):")
        self.stdout.write(secret)
