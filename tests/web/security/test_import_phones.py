"""Issue 19: an import or an API call never quietly accepts a phone nobody can text; the
client goes in, and the report (line, value, why) and the API answer say so. A UTF-16
CSV (Excel's « Texte Unicode ») reads like any other encoding."""

from sqlalchemy import select

from shopsms.extensions import db
from shopsms.models import Client
from tests.services.test_imports import chain, counts, rejected_lines, run_file  # noqa: F401
from tests.web.test_api import post, token  # noqa: F401


def test_an_unusable_phone_is_imported_with_a_warning_naming_line_value_and_why(
    chain,  # noqa: F811
    tmp_path,
):
    path = tmp_path / "clients.csv"
    path.write_text(
        "id;nom;magasin;tel1;tel2\n"
        "C1;UN;001;abc;06 12 34 56 78\n"
        "C2;DEUX;001;0612345678901;\n"
        "C3;TROIS;001;06 11 22 33 44;\n",
        encoding="utf-8",
    )
    run = run_file(path, "clients")
    assert counts(run) == (3, 3, 0, 0, 0)  # nothing refused: the cards go in
    report = rejected_lines(run)
    assert set(report) == {"2", "3"}
    assert "« abc » n'est pas un numéro de téléphone" in report["2"][2]
    assert "« 0612345678901 »" in report["3"][2]
    stored = dict(db.session.execute(select(Client.external_id, Client.tel1)).all())
    assert stored == {"C1": "abc", "C2": "0612345678901", "C3": "06 11 22 33 44"}


def test_the_api_answer_warns_of_an_unusable_phone(client, token):  # noqa: F811
    key = token()
    body = {
        "items": [
            {
                "external_id": "K9",
                "last_name": "NEUF",
                "store": "001",
                "tel1": "abc",
                "tel2": "1234567890123",
            }
        ]
    }
    answer = post(client, "/clients", key, body)
    assert answer.status_code == 200 and answer.json["rejected"] == []
    [warned] = answer.json["warnings"]
    messages = {w["field"]: w["message"] for w in warned["warnings"]}
    assert set(messages) == {"tel1", "tel2"}
    assert "« abc »" in messages["tel1"] and "« 1234567890123 »" in messages["tel2"]


def test_a_utf16_csv_from_excel_imports_like_the_others(chain, tmp_path):  # noqa: F811
    path = tmp_path / "texte-unicode.txt"
    text = "id\tnom\tprénom\tmagasin\ttel1\r\nC1\tÉLODIE\tHélène\t001\t06 12 34 56 78\r\n"
    path.write_bytes(text.encode("utf-16"))  # with its BOM, as Excel writes it
    run = run_file(path, "clients")
    assert counts(run) == (1, 1, 0, 0, 0)
    client = db.session.scalar(select(Client))
    assert (client.last_name, client.first_name) == ("ÉLODIE", "Hélène")
