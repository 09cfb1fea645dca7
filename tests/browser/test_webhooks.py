"""An admin adds a webhook pointing at a local receiver, copies its secret (shown once), sends a test event and sees
it delivered in the log; the receiver verifies it with the copied secret."""

import pytest
from standardwebhooks import Webhook

from tasks_app.choices import Role
from tasks_app.models import WebhookEndpoint
from tests.browser.conftest import PASSWORD, log_in
from tests.webhook_receiver import webhook_receiver

expect = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed").expect

pytestmark = pytest.mark.django_db(transaction=True)  # the live server sees committed rows only


def test_admin_adds_a_webhook_copies_the_secret_and_sees_a_test_event_delivered(page, workspace, make_user, settings):
    settings.CHUNKR_OUTBOUND_ALLOW_HOSTS = ["127.0.0.1", "localhost"]
    make_user("ada", workspace=workspace, role=Role.ADMIN, password=PASSWORD)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    with webhook_receiver() as receiver:
        log_in(page, "ada")
        page.goto("/settings/")
        page.click("[data-settings-tab=webhooks]")
        page.wait_for_url("**/settings/webhooks/")
        page.fill("[data-webhook-form] input[name=url]", receiver.url)
        page.fill("[data-webhook-form] input[name=description]", "Our receiver")
        page.get_by_role("button", name="Add webhook").click()

        secret_box = page.locator("[data-webhook-secret]")
        expect(secret_box).to_be_visible()
        secret = secret_box.inner_text().strip()
        assert secret.startswith("whsec_") and secret == WebhookEndpoint.objects.get().secret
        page.get_by_role("button", name="Copy the signing secret").click()
        expect(page.locator("[data-copy-target=new-webhook-secret][data-copied]")).to_have_count(1)
        assert page.evaluate("navigator.clipboard.readText()") == secret

        endpoint = WebhookEndpoint.objects.get()
        row = page.locator(f'[data-webhook="{endpoint.pk}"]')
        expect(row).to_contain_text("enabled")
        page.reload()
        expect(page.locator("[data-webhook-secret]")).to_have_count(0)  # shown once
        assert secret not in page.content()

        row.get_by_role("link", name=f"Delivery log of {receiver.url}").click()
        page.wait_for_url(f"**/settings/webhooks/{endpoint.pk}/")
        expect(page.locator("[data-webhook-log] [data-delivery]")).to_have_count(0)
        page.get_by_role("button", name="Send test event").click()
        delivered = page.locator('[data-webhook-log] [data-delivery][data-outcome="delivered"]')
        expect(delivered).to_have_count(1)
        expect(delivered).to_contain_text("webhook.test")
        expect(page.locator("[data-send-result]")).to_contain_text("delivered")

        headers, body = receiver.received[-1]
        assert Webhook(secret).verify(body, headers)["event_type"] == "webhook.test"

        # Its answer and the exact request body are in the row's details.
        delivered.locator("summary").click()
        expect(delivered.locator("pre").first).to_contain_text('"event_type":"webhook.test"')
