"""What every store sees at the tablet and on a phone: the header, the test phone, the
banners that say a store cannot send, and targets big enough for a finger."""

import pytest
from playwright.sync_api import expect

from shopsms.services import campaigns
from shopsms.services.campaigns import Recipient
from shopsms.services.sending import send_next_batch
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def log_in(page, live_server, username="vendeur", target="/"):
    page.goto(live_server + "/connexion?next=" + target)
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.keyboard.press("F2")
    page.wait_for_url(live_server + target)


def test_the_test_phone_counts_every_sms_of_a_number(
    app, live_server, page, users, make_client, credits_available, redis_client
):
    credits_available(10)
    client_id = make_client(tel1="06 12 34 56 78")
    with app.app_context():
        for n in range(4):
            campaign = campaigns.draft(
                "single", body=f"Message {n + 1}", recipients=[Recipient(client_id=client_id)]
            )
            campaigns.queue_now(campaign.id)
            send_next_batch(campaign.id)
    log_in(page, live_server, target="/telephone-de-test/")
    line = page.locator(".phone-list li").filter(has_text="06 12 34 56 78")
    expect(line).to_contain_text("4 SMS")
    expect(line).to_contain_text("Message 4")
    line.click()
    expect(page.locator(".bubble.received")).to_have_count(4)
