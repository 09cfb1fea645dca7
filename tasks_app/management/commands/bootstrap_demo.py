import os
import secrets

from django.conf import settings
from django.core.management.base import BaseCommand

from tasks_app.choices import Role
from tasks_app.selectors import api_key_active
from tasks_app.services.api_keys import api_key_create, api_key_digest
from tasks_app.services.workspaces import (
    membership_set,
    user_get_or_create,
    user_password_set,
    workspace_get_or_create,
)

DEMO_WORKSPACE = "Demo"
DEMO_USER = "demo"


class Command(BaseCommand):
    help = "Create the demo workspace, user and API key for `make run` (idempotent); print how to log in."

    def handle(self, *args, **options):
        var = settings.VAR_DIR
        var.mkdir(parents=True, exist_ok=True)
        password_file = var / "demo-password"
        key_file = var / "demo-api-key"
        workspace, _ = workspace_get_or_create(name=DEMO_WORKSPACE)
        wanted = os.environ.get("DEMO_PASSWORD", "")
        stored = password_file.read_text().strip() if password_file.exists() else ""
        user, created = user_get_or_create(username=DEMO_USER)
        # The password is set when the user is made, or when DEMO_PASSWORD names another one: setting it on every
        # start would sign everybody out (Django ties sessions to the password hash).
        if created or (wanted and not user.check_password(wanted)):
            password = wanted or stored or secrets.token_urlsafe(9)
            user_password_set(user=user, password=password)
        else:
            password = stored if stored and user.check_password(stored) else ""
        membership_set(workspace=workspace, user=user, role=Role.OWNER)
        if password:
            password_file.write_text(password)
            password_file.chmod(0o600)
        stored = key_file.read_text().strip() if key_file.exists() else ""
        if not stored or api_key_active(digest=api_key_digest(stored)) is None:
            _, secret = api_key_create(workspace=workspace, name="demo", created_by=user)
            key_file.write_text(secret)
            key_file.chmod(0o600)
        secret = key_file.read_text().strip()
        base = f"http://127.0.0.1:{settings.PORT}"
        self.stdout.write(
            "\n".join(
                [
                    "",
                    "  chunkr-web demo",
                    f"  Dashboard : {base}/   (user {DEMO_USER!r}, password {password!r})"
                    if password
                    else f"  Dashboard : {base}/   (user {DEMO_USER!r}; its password was changed since it was made)",
                    f"  API base  : {base}/api/v1   (docs at {base}/api/v1/docs)",
                    f"  API key   : {secret}   (also in {key_file})",
                    "",
                ]
            )
        )
