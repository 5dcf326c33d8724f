"""The alphanumeric sender id ("Intitulé de l'expéditeur", Odeis' "N° de réponse")."""

from __future__ import annotations

import re

from .said import N_

MIN_LENGTH, MAX_LENGTH = 3, 11

SENDER_ID_RULES = N_(
    "L'intitulé de l'expéditeur est ce qui s'affiche à la place d'un numéro sur le "
    "téléphone du client. Il fait de 3 à 11 caractères : lettres sans accent, chiffres "
    "et « _ », sans espace ni autre signe, avec au moins une lettre. "
    "Un numéro de téléphone n'est pas accepté : les opérateurs français le remplacent "
    "par un numéro court générique, pour lutter contre l'usurpation de numéros "
    "(« spoofing »). Certains opérateurs, comme Free, remplacent même les intitulés "
    "alphanumériques par un numéro court. Le client ne peut pas répondre à l'intitulé : "
    "pensez à signer vos messages avec le nom du magasin."
)

_ALLOWED_RE = re.compile(r"[A-Za-z0-9_ ]")
_LETTER_RE = re.compile(r"[A-Za-z]")
# What people type when they enter a phone number: digits with the usual separators.
_PHONE_RE = re.compile(r"\+?[\d\s.\-()]+")
_PHONE_MIN_DIGITS = 8


def validate_sender_id(value: str | None) -> list[str]:
    """French messages saying what to fix; an empty list when the sender id is valid."""
    value = value or ""
    if not value.strip():
        return [N_("L'intitulé de l'expéditeur est obligatoire.")]
    if _looks_like_phone(value):
        # Length, spaces and "no letter" would all be true but beside the point.
        return [
            N_(
                "Un numéro de téléphone n'est pas accepté par les opérateurs : "
                "utilisez le nom du magasin."
            )
        ]
    errors: list[str] = []
    if not MIN_LENGTH <= len(value) <= MAX_LENGTH:
        errors.append(
            N_(
                "L'intitulé doit faire entre %(low)d et %(high)d caractères "
                "(actuellement %(length)d).",
                low=MIN_LENGTH,
                high=MAX_LENGTH,
                length=len(value),
            )
        )
    if " " in value:
        errors.append(N_("Pas d'espace : remplacez-les par « _ »."))
    rejected = list(dict.fromkeys(char for char in value if not _ALLOWED_RE.fullmatch(char)))
    if rejected:
        errors.append(
            N_(
                "Caractères non acceptés : %(chars)s. Utilisez seulement des "
                "lettres sans accent, des chiffres et « _ ».",
                chars=" ".join(rejected),
            )
        )
    if not _LETTER_RE.search(value):
        errors.append(N_("L'intitulé doit contenir au moins une lettre."))
    return errors


def _looks_like_phone(value: str) -> bool:
    if not _PHONE_RE.fullmatch(value.strip()):
        return False
    return sum(char.isdigit() for char in value) >= _PHONE_MIN_DIGITS
