import subprocess
import sys

import pytest
from django.core.management import call_command

from tasks_app.models import ApiKey, AuditEvent, Workspace
from tasks_app.selectors import api_key_active
from tasks_app.services.api_keys import api_key_create, api_key_digest, api_key_revoke


def test_only_the_digest_is_stored(workspace):
    key, secret = api_key_create(workspace=workspace, name="ci")
    row = ApiKey.objects.get(pk=key.pk)
    assert secret not in {row.digest, row.prefix, row.name}
    assert row.digest == api_key_digest(secret)
    assert secret.startswith(row.prefix)
    assert api_key_active(digest=api_key_digest(secret)).workspace == workspace
    assert AuditEvent.objects.filter(workspace=workspace, verb="api_key.created", target_id=str(key.pk)).exists()


def test_revoked_key_no_longer_resolves(workspace):
    key, secret = api_key_create(workspace=workspace)
    api_key_revoke(key=key, actor=None)
    assert api_key_active(digest=api_key_digest(secret)) is None
    assert ApiKey.objects.get(pk=key.pk).revoked_at is not None


def test_create_api_key_command_creates_workspace_and_prints_key_last(db, capsys):
    call_command("create_api_key", workspace="Initech")
    out = capsys.readouterr().out.strip().splitlines()
    secret = out[-1]
    key = api_key_active(digest=api_key_digest(secret))
    assert key is not None
    assert key.workspace == Workspace.objects.get(name="Initech")


@pytest.mark.django_db(transaction=True)
def test_create_api_key_command_last_stdout_line_is_the_key_for_scripts(settings, tmp_path):
    # Scripts do `KEY=$(python manage.py create_api_key --workspace X | tail -1)`.
    from django.db import connection

    env_db = connection.settings_dict["NAME"]
    result = subprocess.run(
        [sys.executable, "manage.py", "create_api_key", "--workspace", "Scripted"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**__import__("os").environ, "DATABASE_URL": _db_url(connection.settings_dict, env_db)},
    )
    assert result.returncode == 0, result.stderr
    secret = result.stdout.strip().splitlines()[-1]
    assert api_key_active(digest=api_key_digest(secret)).workspace.name == "Scripted"


def _db_url(cfg, name) -> str:
    if cfg["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{name}"
    auth = cfg["USER"] + (f":{cfg['PASSWORD']}" if cfg.get("PASSWORD") else "")
    return f"postgres://{auth}@{cfg['HOST'] or '127.0.0.1'}:{cfg['PORT'] or 5432}/{name}"
