"""A/B texts at the tablet (issue 21): a campaign of 240 clients gets two texts, sees what
each variant costs and the total, is sent, and its report and « Résultats » say each
variant's figures; screens shot at 1024x768 and 390x844."""

import os
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from shopsms.extensions import db
from shopsms.models import Message, Purchase
from shopsms.services import settings
from tests.conftest import PASSWORD
from tests.e2e.test_campaigns_in_browser import _run_worker

pytestmark = pytest.mark.browser

SHOTS = os.environ.get("SHOPSMS_SHOTS")  # a folder: the screens are saved there to look at


def _shot(page, name, size, *parts):
    """The screen as seen (the viewport), and `parts` (selectors) whole."""
    if SHOTS:
        page.set_viewport_size(size)
        page.screenshot(path=os.path.join(SHOTS, f"{name}-{size['width']}.png"))
        for i, selector in enumerate(parts):
            page.locator(selector).first.screenshot(
                path=os.path.join(SHOTS, f"{name}-{size['width']}-part{i}.png")
            )


TABLET, PHONE = {"width": 1024, "height": 768}, {"width": 390, "height": 844}


@pytest.fixture
def clients_240(app, store, make_client):
    ids = [
        make_client(
            last_name=f"NOM{i:03d}",
            first_name="Ana",
            civility="Madame",
            tel1=f"06 12 00 {i // 100:02d} {i % 100:02d}",
            postal_code="64200",
        )
        for i in range(240)
    ]
    with app.app_context():
        settings.put("sending_days", [0, 1, 2, 3, 4, 5, 6])
        settings.put("sending_start", "00:00")
        settings.put("sending_end", "23:59")
        settings.put("max_parts", 2)
        db.session.commit()
    return ids


def test_two_texts_costed_per_variant_sent_and_read_per_variant(
    app, live_server, page, users, store, clients_240, credits_available, redis_client
):
    credits_available(1000)
    page.set_viewport_size(TABLET)
    page.goto(live_server + "/connexion?next=/campagnes/nouvelle")
    page.fill("#username", "vendeur")
    page.fill("#password", PASSWORD)
    page.keyboard.press("F2")
    page.wait_for_url(live_server + "/campagnes/nouvelle")
    expect(page.get_by_test_id("found")).to_have_text("240 clients trouvés")
    page.keyboard.press("F2")  # « Liste des clients »
    page.wait_for_url(re.compile(r"/campagnes/\d+$"))
    campaign_id = int(page.url.rsplit("/", 1)[1])
    # 240 reachable, 10 % held out as the control group: 216 to text.
    expect(page.get_by_test_id("recipients-count")).to_have_text("216 destinataires")

    page.get_by_label("Message", exact=True).fill("Soldes -20 % ce week-end")
    page.get_by_test_id("ab-on").click()
    ab = page.get_by_test_id("ab-texts")
    expect(ab.get_by_test_id("ab-split")).to_contain_text(
        "variante A pour 108, variante B pour 108"
    )
    text_a = page.get_by_label("Variante A", exact=True)
    expect(text_a).to_have_value("Soldes -20 % ce week-end")  # kept through the switch
    text_b = page.get_by_label("Variante B", exact=True)
    # Variante B's box has just been swapped in: typed into before htmx has set it up,
    # its counter would never be asked (a person's next keystroke would ask it).
    page.wait_for_function(
        "box => box['htmx-internal-data'] && box['htmx-internal-data'].initHash",
        arg=text_b.element_handle(),
    )
    text_b.fill(
        "Bonjour <NOM>, nos soldes commencent samedi : -20 % sur tout le magasin, "
        "et un cadeau pour chaque achat de plus de 100 euros. Venez nous voir !"
    )
    # Each text its counter and cost on its own recipients; the total under them.
    expect(page.locator("#composer-b-preview").get_by_test_id("parts")).to_have_text("2 SMS")
    expect(page.locator("#composer-preview").get_by_test_id("recipients")).to_have_text("108")
    expect(page.get_by_test_id("split-credits-A")).to_have_text("108")
    expect(page.get_by_test_id("split-credits-B")).to_have_text("216")
    expect(page.get_by_test_id("split-credits-total")).to_have_text("324")
    expect(page.locator("#composer-b").get_by_role("button", name="<PRENOM>")).to_be_visible()
    _shot(page, "ab-draft", TABLET)
    _shot(page, "ab-draft", PHONE, "#ab-texts", "[data-testid=campaign-actions]")
    page.set_viewport_size(TABLET)

    page.wait_for_load_state("load")
    expect(page.get_by_role("button", name="Envoyer F2")).to_be_enabled()
    page.keyboard.press("F2")
    expect(page.get_by_text("Envoi en préparation")).to_be_visible()
    _run_worker(app)  # preparation, then the sending
    expect(page.get_by_test_id("campaign-status")).to_have_text("Envoyé")
    with app.app_context():
        rows = db.session.execute(
            Message.__table__.select()
            .with_only_columns(Message.client_id, Message.variant, Message.parts)
            .where(Message.campaign_id == campaign_id, Message.state != "skipped")
        ).all()
        assert sorted({r.variant for r in rows}) == ["A", "B"]
        assert sum(r.parts for r in rows if r.variant == "B") == 216
        # Sales after the sending: a third of variant B buys, a tenth of variant A.
        buyers = [r.client_id for r in rows if r.variant == "B"][::3]
        buyers += [r.client_id for r in rows if r.variant == "A"][::10]
        for client_id in buyers:
            db.session.add(
                Purchase(
                    client_id=client_id, store_id=store.id, date=date.today(), amount=Decimal("80")
                )
            )
        db.session.add(
            Purchase(
                client_id=clients_240[0],
                store_id=store.id,
                date=date.today() - timedelta(days=400),
                amount=Decimal(5),
            )
        )
        db.session.commit()

    page.get_by_test_id("open-report").click()
    page.wait_for_url(f"{live_server}/rapports/{campaign_id}")
    variants = page.get_by_test_id("report-variants")
    expect(variants.get_by_test_id("report-variant-A")).to_contain_text("108")
    expect(variants.get_by_test_id("report-variant-B")).to_contain_text("216")
    _shot(page, "ab-report", TABLET, ".report-summary")
    _shot(page, "ab-report", PHONE, ".report-variants")
    page.set_viewport_size(TABLET)

    page.get_by_test_id("results-link").click()
    page.wait_for_url(f"{live_server}/resultats/{campaign_id}")
    expect(page.get_by_test_id("sent-A")).to_have_text("108")
    expect(page.get_by_test_id("sent-B")).to_have_text("108")
    expect(page.get_by_test_id("sent-control")).to_have_text("—")
    expect(page.get_by_test_id("conversion-B")).to_have_text("33,3 %")
    expect(page.get_by_test_id("conversion-A")).to_have_text("10,2 %")
    # One day since the sending: each series is a single point so far.
    expect(page.get_by_test_id("results-chart").locator("polyline[data-series=B]")).to_have_count(1)
    _shot(page, "ab-results", TABLET, "[data-testid=results-groups]")
    _shot(page, "ab-results", PHONE, "[data-testid=results-groups]")
    page.set_viewport_size(PHONE)  # nothing wider than the phone but the tables' own boxes
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
