"""Saved selections: named criteria reused for the next campaign. Head office's are
shared with every store; a store's are seen by that store only."""

import json

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from .. import access, selection
from ..access import Person
from ..extensions import db
from ..models.selection import SavedSelection
from . import audit


class SelectionError(ValueError):
    """A French message that says what to change."""


def visible(user: Person) -> list[SavedSelection]:
    query = select(SavedSelection).order_by(SavedSelection.name)
    if not access.every_store(user):
        query = query.where(
            or_(SavedSelection.store_id.is_(None), SavedSelection.store_id == user.store_id)
        )
    return list(db.session.scalars(query))


def get(user: Person, selection_id: int) -> SavedSelection:
    saved = db.session.get(SavedSelection, selection_id)
    if saved is None or saved not in visible(user):
        raise SelectionError(_l("Cette sélection n'existe plus."))
    return saved


def criteria(saved: SavedSelection) -> selection.Criteria:
    try:
        return selection.Criteria.from_dict(json.loads(saved.criteria or "{}"))
    except (ValueError, TypeError):
        return selection.Criteria()


def save(user: Person, name: str, criteria_: selection.Criteria) -> SavedSelection:
    """Save (or replace, same name, same owner) a selection. Head office's are shared."""
    name = (name or "").strip()
    if not name:
        raise SelectionError(_l("Donnez un nom à la sélection pour l'enregistrer."))
    if len(name) > 80:
        raise SelectionError(_l("Le nom de la sélection est trop long (80 caractères au plus)."))
    if criteria_.is_empty():
        raise SelectionError(_l("Choisissez au moins un critère avant d'enregistrer la sélection."))
    store_id = access.store_scope(user)
    saved = db.session.scalar(
        select(SavedSelection).where(
            SavedSelection.name == name,
            SavedSelection.store_id.is_(None)
            if store_id is None
            else SavedSelection.store_id == store_id,
        )
    )
    if saved is None:
        saved = SavedSelection(name=name, store_id=store_id, created_by_id=user.id)
        db.session.add(saved)
    saved.criteria = json.dumps(criteria_.to_dict())
    audit.record("selection.save", user=user, store_id=store_id, name=name)
    db.session.commit()
    return saved


def delete(user: Person, selection_id: int) -> SavedSelection:
    saved = get(user, selection_id)
    if not access.may_see_store(user, saved.store_id):
        raise SelectionError(_l("Seul le siège peut supprimer une sélection partagée."))
    db.session.delete(saved)
    db.session.commit()
    return saved
