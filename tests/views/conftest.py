import pytest

from tasks_app.choices import Role


@pytest.fixture
def login(client, workspace, make_user):
    """Sign in a user with `role` in the Acme workspace; returns the user."""

    def sign_in(username: str = "mia", role: Role = Role.MEMBER):
        user = make_user(username, workspace=workspace, role=role)
        client.force_login(user)
        return user

    return sign_in


@pytest.fixture
def processed(workspace):
    """A parse task run to completion in-process (no queue): the viewer's input."""
    from tasks_app.services.processing import task_process
    from tests.factories import parse_task, pdf_bytes

    def make(*pages: str, actor=None, name: str = "report.pdf", configuration: dict | None = None):
        task = parse_task(workspace, pdf_bytes(*(pages or ("Hello",))), name=name, configuration=configuration)
        if actor is not None:
            task.created_by_user = actor
            task.save(update_fields=["created_by_user"])
        task_process(task_id=str(task.pk))
        task.refresh_from_db()
        assert task.status == "Succeeded", task.message
        return task

    return make
