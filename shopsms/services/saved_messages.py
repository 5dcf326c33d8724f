"""« Messages enregistrés »: a store's own saved messages and those the chain shares.

A message belongs to one store (store_id set) or to the whole chain (store_id empty).
Staff and managers read their store's and the shared ones and manage their store's;
head office (admin) reads and manages all of them, and alone may share a message.
"""

from collections.abc import Iterable

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy import func, select

from .. import access
from ..access import Person
from ..extensions import db
from ..models import Store, Template
from ..sms.encoding import MULTI_GSM
from . import audit

NAME_MAX = 80  # the column's size
# The longest text any campaign may send: the « Parties par message » setting's top
# (10) times a GSM-7 part; a longer saved message could never go out whole.
BODY_MAX = 10 * MULTI_GSM


class SavedMessageError(ValueError):
    """A French message telling the person what to fix (translated when shown)."""


class DuplicateName(SavedMessageError):
    """The name is taken in that scope; saving again with replace=True overwrites it."""

    def __init__(self, message: LazyString, existing: Template) -> None:
        super().__init__(message)
        self.existing = existing


class NotAllowed(SavedMessageError):
    """The person's role or store does not allow this action."""


def list_for(user: Person) -> list[Template]:
    """What `user` may open: shared messages first, then by store, then by name."""
    query = select(Template).outerjoin(Store, Store.id == Template.store_id)
    if not access.every_store(user):
        query = query.where(Template.store_id.is_(None) | (Template.store_id == user.store_id))
    query = query.order_by(
        Template.store_id.is_not(None), Store.name, func.lower(Template.name), Template.id
    )
    return list(db.session.scalars(query))


def store_names(templates: Iterable[Template]) -> dict[int, str]:
    """{store_id: name} of the stores these messages belong to, for labelling them."""
    ids = {t.store_id for t in templates if t.store_id is not None}
    if not ids:
        return {}
    return dict(db.session.execute(select(Store.id, Store.name).where(Store.id.in_(ids))).all())


def get(user: Person, template_id: int) -> Template:
    template = db.session.get(Template, template_id)
    if template is None or not can_read(user, template):
        raise SavedMessageError(_l("Ce message enregistré n'existe plus."))
    return template


def can_read(user: Person, template: Template) -> bool:
    return template.store_id is None or access.may_see_store(user, template.store_id)


def can_change(user: Person, template: Template) -> bool:
    """Replace or delete: a store's messages by its people, shared ones by head office."""
    if access.every_store(user):
        return True
    return template.store_id is not None and template.store_id == user.store_id


def save(
    user: Person,
    name: str | None,
    body: str | None,
    *,
    shared: bool = False,
    replace: bool = False,
) -> Template:
    """Save `body` under `name`, in the user's store or shared by the chain.

    A name already used in that scope raises DuplicateName, so that the screen can offer
    to replace it; replace=True then overwrites that message's text.
    """
    name = " ".join((name or "").split())
    body = (body or "").replace("\r\n", "\n")
    if not name:
        raise SavedMessageError(_l("Donnez un nom au message pour l'enregistrer."))
    if len(name) > NAME_MAX:
        raise SavedMessageError(
            _l(
                "Le nom fait %(length)d caractères : %(max)d au plus.",
                length=len(name),
                max=NAME_MAX,
            )
        )
    if not body.strip():
        raise SavedMessageError(
            _l("Le message est vide : écrivez un texte avant de l'enregistrer.")
        )
    if len(body) > BODY_MAX:
        raise SavedMessageError(
            _l(
                "Le message fait %(length)d caractères : %(max)d au plus, la longueur du plus "
                "long SMS qu'une campagne peut envoyer.",
                length=len(body),
                max=BODY_MAX,
            )
        )
    store_id = _scope(user, shared)
    existing = db.session.scalar(
        select(Template).where(
            func.lower(Template.name) == name.lower(),
            Template.store_id.is_(None) if store_id is None else Template.store_id == store_id,
        )
    )
    if existing is not None:
        if not replace:
            raise DuplicateName(
                _l("Un message « %(name)s » existe déjà : le remplacer ?", name=existing.name),
                existing,
            )
        if not can_change(user, existing):
            raise NotAllowed(_l("Seul le siège peut modifier un message partagé."))
        old = existing.body
        existing.body = body
        existing.name = name
        audit.record(
            "template.replace", user=user, store_id=store_id, obj=existing, name=name, old=old
        )
        db.session.commit()
        return existing
    template = Template(name=name, body=body, store_id=store_id, created_by_id=user.id)
    db.session.add(template)
    db.session.flush()
    audit.record(
        "template.create",
        user=user,
        store_id=store_id,
        obj=template,
        name=name,
        shared=not store_id,
    )
    db.session.commit()
    return template


def delete(user: Person, template_id: int) -> Template:
    template = get(user, template_id)
    if not can_change(user, template):
        if template.store_id is None:
            raise NotAllowed(_l("Seul le siège peut supprimer un message partagé."))
        raise NotAllowed(_l("Ce message appartient à un autre magasin."))
    # The text goes into the log: a deleted message can still be read back if needed.
    audit.record(
        "template.delete",
        user=user,
        store_id=template.store_id,
        obj=template,
        name=template.name,
        body=template.body,
    )
    db.session.delete(template)
    db.session.commit()
    return template


def _scope(user: Person, shared: bool) -> int | None:
    """The store_id a new message gets."""
    if access.every_store(user):
        # Head office without a store of its own can only write for the whole chain.
        return None if shared or user.store_id is None else user.store_id
    if shared:
        raise NotAllowed(_l("Seul le siège peut partager un message avec toute l'enseigne."))
    return user.store_id
