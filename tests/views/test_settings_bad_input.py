"""Bad input on the settings pages and the way in: a clear 4xx with a message, never a 500."""

import pytest
from django.http import HttpRequest

from tasks_app.choices import Role
from tasks_app.models import Membership

HX = {"HX-Request": "true"}


@pytest.fixture
def owner_client(client, workspace, make_user):
    make_user("olga", workspace=workspace, role=Role.OWNER)
    make_user("mia", workspace=workspace, role=Role.MEMBER)
    client.login(request=HttpRequest(), username="olga", password="pw-for-tests-1")
    return client


@pytest.mark.parametrize(
    ("url", "data", "says"),
    [
        ("/settings/members/invite/", {"role": "emperor"}, "Choose a role"),
        ("/settings/members/invite/", {"expires_in_days": "forever"}, "from the list"),
        ("/settings/members/invite/", {"expires_in_days": "3"}, "from the list"),
        ("/settings/members/invite/", {"email": "not an address"}, "does not look right"),
        ("/settings/members/invite/", {"email": "x@" + "a" * 300}, "does not look right"),
        ("/settings/api-keys/new/", {"expires_in_days": "-5"}, "in the future"),
        ("/settings/api-keys/new/", {"expires_in_days": "1e9"}, "from the list"),
        ("/settings/api-keys/new/", {"expires_in_days": "99999999999"}, "from the list"),
        ("/settings/api-keys/new/", {"role": "admin"}, "member or a viewer"),
        ("/workspace/new/", {"workspace_name": ""}, "needs a name"),
    ],
)
def test_bad_settings_input_is_a_400_that_says_why(owner_client, url, data, says):
    answer = owner_client.post(url, data, headers=HX)
    assert answer.status_code == 400, answer.content[:300]
    assert says in answer.content.decode()


def test_bad_member_changes_are_refused_with_a_reason(owner_client, workspace):
    mia = Membership.objects.get(user__username="mia")
    bad_role = owner_client.post(f"/settings/members/{mia.pk}/role/", {"role": "root"}, headers=HX)
    assert bad_role.status_code == 400 and "Choose a role" in bad_role.content.decode()
    assert owner_client.post("/settings/members/999999/role/", {"role": "viewer"}).status_code == 404
    assert owner_client.post("/settings/members/999999/remove/").status_code == 404
    assert owner_client.get("/settings/members/1/role/").status_code == 405
    assert owner_client.post("/settings/invitations/not-a-uuid/withdraw/").status_code == 404


def test_bad_sign_up_and_invitation_input_is_a_400(client, db, settings):
    settings.CHUNKR_OPEN_SIGNUP = True
    for data, says in (
        ({"username": "", "password": "a-long-pass-phrase"}, "Choose a user name"),
        ({"username": "x" * 200, "password": "a-long-pass-phrase"}, "Choose a user name"),
        ({"username": "pat", "password": "password"}, "too common"),
    ):
        answer = client.post("/accounts/signup/", data)
        assert answer.status_code == 400 and says in answer.content.decode()
    assert client.get("/invite/" + "x" * 5000 + "/").status_code == 404


@pytest.mark.parametrize(
    ("url", "data"),
    [
        ("/settings/webhooks/", {"url": "javascript:alert(1)"}),
        ("/settings/webhooks/", {"url": "https://example.org/h", "events": ["task.nope"]}),
        ("/settings/webhooks/", {"url": ""}),
        ("/settings/webhooks/", {"url": "http://" + "a" * 3000 + ".example/"}),
        ("/settings/retention/", {"default": "custom", "custom_hours": "-3", "zdr_trigger": "first"}),
        ("/settings/retention/", {"default": "custom", "custom_hours": "10" * 20, "zdr_trigger": "first"}),
        ("/settings/retention/", {"default": "fortnight", "zdr_trigger": "whenever"}),
    ],
)
def test_bad_webhook_and_retention_input_is_refused_not_a_500(owner_client, url, data, settings):
    settings.CHUNKR_OUTBOUND_ALLOW_HOSTS = []
    answer = owner_client.post(url, data, headers=HX)
    assert 400 <= answer.status_code < 500 or (answer.status_code == 200 and "alert-error" in answer.content.decode())
