"""Settings in a real browser: inviting someone who then signs up through the link, and an API key's life."""

import httpx
import pytest

from tasks_app.choices import Role
from tasks_app.models import ApiKey, Membership
from tests.browser.conftest import PASSWORD, log_in

expect = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed").expect


@pytest.fixture
def admin(workspace, make_user):
    return make_user("ada", workspace=workspace, role=Role.ADMIN, password=PASSWORD)


def test_an_admin_invites_and_the_invitee_signs_up_through_the_link(page, browser, live_server, workspace, admin):
    log_in(page, "ada")
    page.goto("/settings/members/")
    expect(page.locator("[data-settings-nav] [aria-current=page]")).to_have_text("Members")
    form = page.locator("[data-invite-form]")
    form.locator("input[name=email]").fill("nora@example.org")
    form.locator("select[name=role]").select_option("viewer")
    form.get_by_role("button", name="Create invitation").click()
    link = page.locator("[data-invite-link]")
    expect(link).to_contain_text("/invite/")
    page.get_by_role("button", name="Copy").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    expect(page.locator("[data-invitation]")).to_contain_text("nora@example.org")
    url = link.inner_text().strip()

    stranger = browser.new_context(base_url=live_server.url)
    try:
        invitee = stranger.new_page()
        invitee.goto(url)
        expect(invitee.locator("[data-invitation-page]")).to_contain_text("Acme")
        expect(invitee.locator("input[name=email]")).to_have_value("nora@example.org")
        invitee.fill("input[name=username]", "nora")
        invitee.fill("input[name=password]", "a-long-pass-phrase")
        invitee.locator("[data-accept-invitation]").click()
        invitee.wait_for_url("**/tasks/")
        expect(invitee.locator(".workspace-name")).to_have_text("Acme")
        expect(invitee.locator("a", has_text="Upload")).to_be_visible()
        invitee.goto(url)  # the link was single-use
        expect(invitee.locator("[data-invitation-problem]")).to_contain_text("already been used")
    finally:
        stranger.close()

    assert Membership.objects.get(user__username="nora").role == Role.VIEWER
    page.reload()
    expect(page.locator('[data-member="nora"]')).to_be_visible()
    page.locator('[data-member="nora"] select[name=role]').select_option("member")
    with page.expect_response("**/role/") as answer:
        page.get_by_role("button", name="Change role of nora").click()
    assert answer.value.status == 200
    expect(page.locator('[data-member="nora"] select[name=role]')).to_have_value("member")
    assert Membership.objects.get(user__username="nora").role == Role.MEMBER


def test_a_refused_change_shows_its_reason_in_the_page(page, workspace, make_user):
    """The server answers 400 with the form and its error; htmx swaps it in (base.html's responseHandling)."""
    make_user("olga", workspace=workspace, role=Role.OWNER, password=PASSWORD)
    log_in(page, "olga")
    page.goto("/settings/members/")
    with page.expect_response("**/settings/leave/") as answer:
        page.locator("[data-leave-workspace]").click()  # confirm() accepted by the fixture
    assert answer.value.status == 400
    expect(page.locator("[data-member-error]")).to_contain_text("last owner")
    assert Membership.objects.filter(user__username="olga").exists()


def test_an_admin_creates_a_read_only_key_uses_it_and_revokes_it(page, live_server, workspace, admin):
    log_in(page, "ada")
    page.goto("/settings/api-keys/")
    form = page.locator("[data-api-key-form]")
    form.locator("input[name=name]").fill("dashboards")
    form.locator("select[name=role]").select_option("viewer")
    form.locator("select[name=expires_in_days]").select_option("30")
    form.get_by_role("button", name="Create key").click()
    secret = page.locator("[data-secret]")
    expect(secret).to_contain_text("ck_")
    value = secret.inner_text().strip()
    key = ApiKey.objects.get(name="dashboards")
    row = page.locator(f'[data-api-key="{key.prefix}"]')
    expect(row).to_contain_text("Viewer")

    api = f"{live_server.url}/api/v1"
    assert httpx.get(f"{api}/tasks", headers={"Authorization": value}).status_code == 200
    refused = httpx.post(f"{api}/tasks/parse", headers={"Authorization": value}, json={"file": "x"})
    assert refused.status_code == 403

    row.get_by_role("button", name="Revoke dashboards").click()  # confirm() accepted by the fixture
    expect(page.locator(f'[data-api-key="{key.prefix}"]')).to_contain_text("revoked")
    expect(page.locator("[data-secret]")).to_have_count(0)  # shown once, gone after any change
    assert httpx.get(f"{api}/tasks", headers={"Authorization": value}).status_code == 401
