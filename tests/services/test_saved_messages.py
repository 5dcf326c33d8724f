"""« Messages enregistrés »: each store its own, head office shares with the chain."""

import pytest

from shopsms.extensions import db
from shopsms.models import AuditEntry, Store, Template, User
from shopsms.services import saved_messages
from shopsms.services.saved_messages import DuplicateName, NotAllowed, SavedMessageError
from shopsms.services.users import create_user
from tests.conftest import PASSWORD


@pytest.fixture
def people(app, users):
    """Staff, manager and head office of store 001, and a seller of store 002.

    Services are called from views, in a request: their French messages are translated
    when shown, which needs one."""
    with app.test_request_context():
        db.session.add(Store(code="002", name="Bayonne"))
        db.session.commit()
        create_user("vendeur.bayonne", PASSWORD, "staff", "002")
        yield {
            name: db.session.scalar(db.select(User).where(User.username == name))
            for name in ("vendeur", "gerant", "siege", "vendeur.bayonne")
        }


def names(user):
    return [t.name for t in saved_messages.list_for(user)]


def test_each_store_sees_its_own_and_the_shared_messages(people):
    saved_messages.save(people["siege"], "Anniversaire", "Joyeux anniversaire <PRENOM> !")
    saved_messages.save(people["vendeur"], "Soirée privée", "Soirée jeudi 19h")
    saved_messages.save(people["vendeur.bayonne"], "Braderie", "Braderie samedi")
    # Shared first, then the store's own, by name.
    assert names(people["vendeur"]) == ["Anniversaire", "Soirée privée"]
    assert names(people["gerant"]) == ["Anniversaire", "Soirée privée"]
    assert names(people["vendeur.bayonne"]) == ["Anniversaire", "Braderie"]
    shared = db.session.scalar(db.select(Template).where(Template.name == "Anniversaire"))
    assert shared.store_id is None  # head office without a store writes for the chain


def test_head_office_sees_every_store(people):
    saved_messages.save(people["vendeur"], "Biarritz", "a")
    saved_messages.save(people["vendeur.bayonne"], "Bayonne", "b")
    saved_messages.save(people["siege"], "Chaîne", "c")
    # Shared first, then store by store (Bayonne before Biarritz).
    assert names(people["siege"]) == ["Chaîne", "Bayonne", "Biarritz"]


def test_only_head_office_shares(people):
    with pytest.raises(NotAllowed, match="Seul le siège peut partager"):
        saved_messages.save(people["gerant"], "Promo", "Promo -20 %", shared=True)
    assert db.session.scalar(db.select(db.func.count(Template.id))) == 0


def test_name_and_text_are_required(people):
    with pytest.raises(SavedMessageError, match="Donnez un nom"):
        saved_messages.save(people["vendeur"], "   ", "Bonjour")
    with pytest.raises(SavedMessageError, match="Le message est vide"):
        saved_messages.save(people["vendeur"], "Vide", " \n ")
    with pytest.raises(SavedMessageError, match="81 caractères : 80 au plus"):
        saved_messages.save(people["vendeur"], "x" * 81, "Bonjour")


def test_a_taken_name_offers_to_replace_it(people):
    first = saved_messages.save(people["vendeur"], "Retour  atelier", "Votre montre est prête.")
    assert first.name == "Retour atelier"  # spaces tidied
    with pytest.raises(DuplicateName, match="« Retour atelier » existe déjà") as refused:
        saved_messages.save(people["gerant"], "retour atelier", "Votre bijou est prêt.")
    assert refused.value.existing.id == first.id
    replaced = saved_messages.save(
        people["gerant"], "Retour atelier", "Votre bijou est prêt.\r\nA bientôt", replace=True
    )
    assert replaced.id == first.id
    assert replaced.body == "Votre bijou est prêt.\nA bientôt"
    # The same name in another store, or shared, is another message.
    other = saved_messages.save(people["vendeur.bayonne"], "Retour atelier", "Bayonne")
    shared = saved_messages.save(people["siege"], "Retour atelier", "Siège")
    assert len({first.id, other.id, shared.id}) == 3


def test_staff_cannot_replace_a_shared_message(people):
    saved_messages.save(people["siege"], "Anniversaire", "Joyeux anniversaire")
    # Staff's save goes to their store: a message of the same name there, not a change.
    mine = saved_messages.save(people["vendeur"], "Anniversaire", "Bon anniversaire")
    assert mine.store_id is not None
    assert "Joyeux anniversaire" in [t.body for t in saved_messages.list_for(people["siege"])]


def test_delete_rules(people):
    shared = saved_messages.save(people["siege"], "Partagé", "Texte")
    mine = saved_messages.save(people["vendeur"], "Biarritz", "Texte")
    theirs = saved_messages.save(people["vendeur.bayonne"], "Bayonne", "Texte")
    with pytest.raises(NotAllowed, match="Seul le siège peut supprimer un message partagé"):
        saved_messages.delete(people["gerant"], shared.id)
    # Another store's message is not even visible.
    with pytest.raises(SavedMessageError, match="n'existe plus"):
        saved_messages.delete(people["vendeur"], theirs.id)
    saved_messages.delete(people["gerant"], mine.id)  # a colleague's, same store
    saved_messages.delete(people["siege"], theirs.id)
    saved_messages.delete(people["siege"], shared.id)
    assert db.session.scalar(db.select(db.func.count(Template.id))) == 0
    with pytest.raises(SavedMessageError, match="n'existe plus"):
        saved_messages.delete(people["siege"], shared.id)


def test_every_change_is_audited_with_the_text(people):
    template = saved_messages.save(people["vendeur"], "Promo", "Promo -20 %")
    saved_messages.save(people["vendeur"], "Promo", "Promo -30 %", replace=True)
    saved_messages.delete(people["gerant"], template.id)
    entries = db.session.scalars(db.select(AuditEntry).order_by(AuditEntry.id)).all()
    actions = [(e.action, e.user_id) for e in entries if e.action.startswith("template.")]
    assert actions == [
        ("template.create", people["vendeur"].id),
        ("template.replace", people["vendeur"].id),
        ("template.delete", people["gerant"].id),
    ]
    assert entries[-1].details["body"] == "Promo -30 %"
    assert entries[-2].details["old"] == "Promo -20 %"
