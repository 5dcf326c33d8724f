"""Files as a point of sale exports them, for the demo and the tests: clients in UTF-8
with ';', purchases in Windows-1252 with ',' (and quoted French decimals), repair
tickets in UTF-8; each with a few bad rows that the import must refuse, with reasons."""

import csv
import random
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from ...demo import BRANDS, STORES
from .reading import PathLike

FIRST_NAMES = ("Amélie", "Jean", "Hélène", "François", "Zoé", "Loïc", "Chloé", "Marc")
LAST_NAMES = ("DUPONT", "Etchegaray", "LAFFITTE", "Bérard", "ITURRALDE", "Moreau")
BAD_CLIENTS = 5
BAD_PURCHASES = 3
BAD_REPAIRS = 2


@dataclass(frozen=True)
class ExportReport:
    clients: int  # good rows in each file
    purchases: int
    repairs: int
    bad_clients: int = BAD_CLIENTS
    bad_purchases: int = BAD_PURCHASES
    bad_repairs: int = BAD_REPAIRS
    files: tuple[str, ...] = ()


def _mobile(rng: random.Random) -> str:
    digits = "".join(rng.choice("0123456789") for _ in range(8))
    return f"06 {digits[:2]} {digits[2:4]} {digits[4:6]} {digits[6:]}"


def write(folder: PathLike, clients: int = 200, *, seed: int = 2026) -> ExportReport:
    """Write clients.csv, ventes.csv and sav.csv into `folder`."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    codes = [code for code, *_ in STORES]
    client_ids = [f"POS-C{n:06d}" for n in range(1, clients + 1)]
    brands = (*BRANDS[:5], "Créations Éléa")
    with open(folder / "clients.csv", "w", encoding="utf-8", newline="") as file:
        out = csv.writer(file, delimiter=";")
        out.writerow(
            [
                "Code client",
                "N° client",
                "Magasin",
                "Civilité",
                "Nom",
                "Prénom",
                "Adresse",
                "CP",
                "Ville",
                "Tél. 1",
                "Tél. 2",
                "E-mail",
                "Date de naissance",
                "Accord SMS",
                "Refuse tout SMS",
            ]
        )
        for n, external_id in enumerate(client_ids, start=1):
            woman = rng.random() < 0.6
            birthday = date(rng.randint(1945, 2005), rng.randint(1, 12), rng.randint(1, 28))
            out.writerow(
                [
                    external_id,
                    f"P{n:06d}",
                    rng.choice(codes),
                    "Mme" if woman else "M.",
                    rng.choice(LAST_NAMES),
                    rng.choice(FIRST_NAMES),
                    f"{n} rue des Halles",
                    "64200",
                    "Biarritz",
                    _mobile(rng),
                    "05 59 24 00 00" if n % 5 == 0 else "",
                    f"client{n}@example.fr" if n % 3 else "",
                    birthday.strftime("%d/%m/%Y"),
                    ("Oui", "Non", "")[n % 3],
                    "Oui" if n % 50 == 0 else "Non",
                ]
            )
        out.writerow(
            [
                "POS-BAD1",
                "B1",
                "001",
                "Mme",
                "MARTIN",
                "Léa",
                "",
                "",
                "",
                "",
                "",
                "",
                "31/02/1990",
                "Oui",
                "",
            ]
        )  # no 31st of February
        out.writerow(
            ["POS-BAD2", "B2", "001", "M.", "", "Paul", "", "", "", "", "", "", "", "", ""]
        )  # no last name
        out.writerow(
            ["POS-BAD3", "B3", "999", "M.", "DURAND", "Luc", "", "", "", "", "", "", "", "", ""]
        )  # unknown store
        out.writerow(["POS-BAD4", "B4", "001", "Mme", "PETIT"])  # columns missing
        out.writerow(
            [
                "POS-BAD5",
                "B5",
                "001",
                "Docteur",
                "X" * 90,
                "Ana",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "Peut-être",
                "",
            ]
        )  # civility, name too long, consent
    today = date.today()
    with open(folder / "ventes.csv", "w", encoding="cp1252", newline="") as file:
        out = csv.writer(file, delimiter=",")
        out.writerow(
            [
                "Identifiant",
                "Code client",
                "Magasin",
                "Date",
                "Montant TTC",
                "Marque",
                "N° ticket",
                "Libellé",
            ]
        )
        for n, external_id in enumerate(client_ids, start=1):
            day = today - timedelta(days=rng.randrange(1, 900))
            amount = f"{rng.randrange(1500, 250000) / 100:.2f}".replace(".", ",")
            out.writerow(
                [
                    f"POS-V{n:06d}",
                    external_id,
                    rng.choice(codes),
                    day.strftime("%d/%m/%Y"),
                    amount,
                    rng.choice(brands),
                    f"T{n:07d}",
                    "Montre étanche à quartz",
                ]
            )
        out.writerow(["POS-VBAD1", "POS-C999999", "001", "01/03/2024", "10,00", "", "", ""])
        out.writerow(["POS-VBAD2", client_ids[0], "001", "01/03/2024", "dix euros", "", "", ""])
        out.writerow(["POS-VBAD3", client_ids[0], "001", "2024/13/45", "10,00", "", "", ""])
    repairs = max(1, clients // 4)
    with open(folder / "sav.csv", "w", encoding="utf-8", newline="") as file:
        out = csv.writer(file, delimiter=";")
        out.writerow(
            [
                "Identifiant",
                "N° fiche",
                "Code client",
                "Magasin",
                "Opér.",
                "État",
                "Descriptif",
                "Réparation",
                "Montant",
                "Date de dépôt",
            ]
        )
        for n in range(1, repairs + 1):
            out.writerow(
                [
                    f"POS-S{n:06d}",
                    f"S{n:06d}",
                    client_ids[n - 1],
                    rng.choice(codes),
                    rng.choice(("Rép.", "Garantie", "Devis")),
                    rng.choice(("En cours", "Atelier")),
                    "Montre femme acier",
                    "Changer la pile",
                    "30,00",
                    (today - timedelta(days=n % 30)).strftime("%d/%m/%Y"),
                ]
            )
        out.writerow(["POS-SBAD1", "SB1", client_ids[0], "001", "Rép.", "Perdu", "", "", "", ""])
        out.writerow(["POS-SBAD2", "", client_ids[0], "001", "Rép.", "", "", "", "", ""])
    files = tuple(str(folder / name) for name in ("clients.csv", "ventes.csv", "sav.csv"))
    return ExportReport(clients=clients, purchases=clients, repairs=repairs, files=files)
