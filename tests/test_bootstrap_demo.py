"""`make run`'s demo set-up runs on every start: it must not sign anybody out."""

import io

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.http import HttpRequest


def test_a_restart_keeps_the_demo_password_and_sessions(db, settings, tmp_path, client, monkeypatch):
    monkeypatch.delenv("DEMO_PASSWORD", raising=False)
    settings.VAR_DIR = tmp_path
    call_command("bootstrap_demo", stdout=io.StringIO())
    password = (tmp_path / "demo-password").read_text()
    user = get_user_model().objects.get(username="demo")
    hashed = user.password
    assert client.login(request=HttpRequest(), username="demo", password=password)
    assert client.get("/tasks/").status_code == 200

    call_command("bootstrap_demo", stdout=io.StringIO())  # the next `make run`

    user.refresh_from_db()
    assert user.password == hashed and (tmp_path / "demo-password").read_text() == password
    assert client.get("/tasks/").status_code == 200  # still signed in


def test_demo_password_from_the_environment_replaces_a_different_one(db, settings, tmp_path, monkeypatch):
    settings.VAR_DIR = tmp_path
    monkeypatch.delenv("DEMO_PASSWORD", raising=False)
    call_command("bootstrap_demo", stdout=io.StringIO())
    monkeypatch.setenv("DEMO_PASSWORD", "a-chosen-password-1")
    call_command("bootstrap_demo", stdout=io.StringIO())
    user = get_user_model().objects.get(username="demo")
    assert user.check_password("a-chosen-password-1")
    assert (tmp_path / "demo-password").read_text() == "a-chosen-password-1"
    hashed = user.password
    call_command("bootstrap_demo", stdout=io.StringIO())  # the same one again
    user.refresh_from_db()
    assert user.password == hashed
