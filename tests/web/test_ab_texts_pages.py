"""A/B texts through the test client (issue 21): two texts on the draft, each costed on its
own recipients, the total, the refusal of an empty « Variante B », the report's and the
export's variant."""

import csv
import html
import io
import re

import pytest
from sqlalchemy import select

from shopsms.extensions import db
from shopsms.models import Campaign, DraftRecipient, Message
from shopsms.services import settings
from tests.conftest import csrf_token, run_preparation

HTMX = {"HX-Request": "true"}


@pytest.fixture
def forty_clients(make_client):
    return [
        make_client(
            last_name=f"NOM{'X' * (i % 30)}",
            tel1=f"06 11 00 {i // 100:02d} {i % 100:02d}",
            postal_code="64200",
        )
        for i in range(40)
    ]


def _draft(web):
    page = web.get("/campagnes/nouvelle")
    response = web.post(
        "/campagnes/nouvelle", data={"csrf_token": csrf_token(page), "postal_code": "64"}
    )
    assert response.status_code == 302, response.text
    return int(response.headers["Location"].rsplit("/", 1)[1])


def _split(app, campaign_id):
    with app.app_context():
        rows = db.session.execute(
            select(DraftRecipient.variant, DraftRecipient.client_id).where(
                DraftRecipient.campaign_id == campaign_id, DraftRecipient.state == "pending"
            )
        ).all()
    return {v: [r.client_id for r in rows if r.variant == v] for v in ("A", "B")}


def test_two_texts_costed_apart_sent_and_reported_per_variant(
    app, client_as, forty_clients, credits_available
):
    credits_available(1000)
    with app.app_context():
        settings.put("sending_days", [0, 1, 2, 3, 4, 5, 6])
        settings.put("sending_start", "00:00")
        settings.put("sending_end", "23:59")
        settings.put("max_parts", 3)
        db.session.commit()
    web = client_as("staff")
    campaign_id = _draft(web)
    page = web.get(f"/campagnes/{campaign_id}")
    assert "Tester deux textes (A/B)" in page.text and 'name="body_b"' not in page.text
    token = csrf_token(page)
    typed = {"csrf_token": token, "body": "Soldes -20 %", "sender_id": "BIJOUX64"}
    response = web.post(f"/campagnes/{campaign_id}/variantes", data=typed | {"action": "on"})
    assert response.status_code == 302
    page = web.get(f"/campagnes/{campaign_id}")
    assert 'id="composer" data-composer' in page.text
    assert 'id="composer-b" data-composer' in page.text
    assert 'name="body_b"' in page.text and ">Variante A</label>" in page.text
    assert "Soldes -20 %" in page.text  # the text typed before came along
    split = _split(app, campaign_id)
    assert (len(split["A"]), len(split["B"])) == (20, 20)
    assert "variante A pour 20, variante B pour 20" in page.text

    # Each composer costs its own recipients; the total says both.
    long_b = "Bonjour <NOM>, " + "nos soldes commencent ce samedi en magasin. " * 4
    preview = web.post(
        "/composer/apercu",
        headers=HTMX,
        data={
            "csrf_token": token,
            "kind": "marketing",
            "campaign_id": campaign_id,
            "variant": "B",
            "body_b": long_b,
            "add_stop": "1",
        },
    )
    assert re.search(r'data-testid="recipients">20<', preview.text)
    cost = web.post(
        f"/campagnes/{campaign_id}/cout-ab", headers=HTMX, data=typed | {"body_b": long_b}
    )
    credits_a = int(re.search(r'data-testid="split-credits-A">(\d+)<', cost.text).group(1))
    credits_b = int(re.search(r'data-testid="split-credits-B">(\d+)<', cost.text).group(1))
    total = int(re.search(r'data-testid="split-credits-total">(\d+)<', cost.text).group(1))
    assert credits_a == 20 and credits_b >= 40 and total == credits_a + credits_b

    # An empty « Variante B » is refused, the texts kept.
    refused = web.post(f"/campagnes/{campaign_id}/envoyer", data=typed | {"body_b": " "})
    assert refused.status_code == 422
    assert "La variante B est vide" in refused.text

    sent = web.post(f"/campagnes/{campaign_id}/envoyer", data=typed | {"body_b": long_b})
    assert sent.status_code == 302
    assert run_preparation(app, campaign_id) == "queued"
    # The live page says what « Envoyer » reserved, and for which text.
    live = web.get(f"/campagnes/{campaign_id}").text
    assert f"{total} crédits réservés." in live
    assert "Variante A : 20 crédits (20 clients)." in live
    assert f"Variante B : {credits_b} crédits (20 clients)." in live
    # …and both texts, each under its variant's name (not A's alone as « Message »).
    shown = {
        v: re.search(rf'data-testid="message-{v}">.*?sms-bubble">(.*?)</div>', live, re.S)
        for v in ("A", "B")
    }
    assert shown["B"] and html.unescape(shown["B"].group(1)) == long_b
    assert shown["A"] and html.unescape(shown["A"].group(1)) == typed["body"]
    with app.app_context():
        from shopsms.services.sending import send_next_batch

        for _ in range(50):
            if send_next_batch(campaign_id).done:
                break
        parts = {
            v: sum(
                db.session.scalars(
                    select(Message.parts).where(
                        Message.campaign_id == campaign_id, Message.variant == v
                    )
                )
            )
            for v in ("A", "B")
        }
        assert db.session.get(Campaign, campaign_id).body_b == long_b
    assert parts == {"A": credits_a, "B": credits_b}

    report = web.get(f"/rapports/{campaign_id}")
    assert 'data-testid="report-variants"' in report.text
    row_b = re.search(r'data-testid="report-variant-B">(.*?)</tr>', report.text, re.S).group(1)
    assert re.findall(r'<td class="num">(\d+)', row_b)[:2] == ["20", "20"]
    assert f'<td class="num">{credits_b}</td>' in row_b

    export = web.get(f"/rapports/{campaign_id}/export.csv")
    rows = list(csv.reader(io.StringIO(export.data.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][-1] == "Variante"
    assert sorted(row[-1] for row in rows[1:]) == ["A"] * 20 + ["B"] * 20


def test_back_to_one_text_and_a_bad_share(app, client_as, forty_clients):
    web = client_as("staff")
    campaign_id = _draft(web)
    token = csrf_token(web.get(f"/campagnes/{campaign_id}"))
    typed = {"csrf_token": token, "body": "A", "body_b": "B", "sender_id": "BIJOUX64"}
    web.post(f"/campagnes/{campaign_id}/variantes", data=typed | {"action": "on"})
    bad = web.post(
        f"/campagnes/{campaign_id}/variantes",
        follow_redirects=True,
        data=typed | {"action": "split", "split_b": "95"},
    )
    assert "Part de la variante B : un nombre entier de 10 à 90" in bad.text
    web.post(
        f"/campagnes/{campaign_id}/variantes", data=typed | {"action": "split", "split_b": "25"}
    )
    assert [len(v) for v in _split(app, campaign_id).values()] == [30, 10]
    web.post(f"/campagnes/{campaign_id}/variantes", data=typed | {"action": "off"})
    page = web.get(f"/campagnes/{campaign_id}")
    assert 'name="body_b"' not in page.text
    assert _split(app, campaign_id) == {"A": [], "B": []}
