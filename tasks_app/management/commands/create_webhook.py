from django.core.management.base import BaseCommand, CommandError

from tasks_app.errors import ApplicationError
from tasks_app.services.webhooks import EVENT_CHOICES, EVENT_TYPES, webhook_endpoint_create
from tasks_app.services.workspaces import workspace_get_or_create


class Command(BaseCommand):
    help = "Add a webhook endpoint to a workspace (created if needed). Its signing secret is printed as the last line."

    def add_arguments(self, parser):
        parser.add_argument("--workspace", required=True, help="Workspace name")
        parser.add_argument("--url", required=True, help="Where events are POSTed")
        parser.add_argument(
            "--events",
            nargs="+",
            choices=sorted(EVENT_CHOICES),
            default=list(EVENT_TYPES.values()),
            help="Events to send (default: every task status change)",
        )
        parser.add_argument("--description", default="", help="A label shown in the dashboard")

    def handle(self, *args, workspace: str, url: str, events: list[str], description: str, **options):
        if not workspace.strip():
            raise CommandError("--workspace must not be empty.")
        ws, created = workspace_get_or_create(name=workspace)
        if created:
            self.stderr.write(f"Created workspace {ws.name!r}.")
        try:
            endpoint = webhook_endpoint_create(
                workspace=ws, url=url, description=description, event_types=events, actor=None
            )
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        self.stderr.write(f"Webhook {endpoint.url} for workspace {ws.name!r} (secret shown once; store it safely):")
        self.stdout.write(endpoint.secret)
