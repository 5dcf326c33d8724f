import pytest

from shopsms.extensions import db
from shopsms.models import AuditEntry, User
from shopsms.services.users import UserError, authenticate, create_user

pytestmark = pytest.mark.usefixtures("ctx")


def test_create_user_hashes_the_password(store):
    user = create_user("Lucie", "motdepasse", "staff", "001")
    assert user.username == "lucie"
    assert user.password_hash != "motdepasse" and user.check_password("motdepasse")
    assert authenticate("lucie", "motdepasse") == user
    assert authenticate("lucie", "wrong-one") is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("", "motdepasse", "staff", "001"), "Indiquez un identifiant."),
        (("x", "court", "staff", "001"), "au moins 6 caractères"),
        (("x", "motdepasse", "boss", "001"), "Rôle inconnu « boss »"),
        (("x", "motdepasse", "staff", None), "doit être rattaché à un magasin"),
        (("x", "motdepasse", "staff", "999"), "Aucun magasin n'a le code « 999 »"),
    ],
)
def test_create_user_says_what_to_fix(store, args, message):
    with pytest.raises(UserError, match=message):
        create_user(*args)
    assert db.session.query(User).count() == 0


def test_usernames_are_unique_whatever_the_case(store):
    create_user("lucie", "motdepasse", "staff", "001")
    with pytest.raises(UserError, match="existe déjà"):
        create_user("LUCIE", "motdepasse", "staff", "001")


def test_users_create_command(runner, store):
    result = runner.invoke(
        args=["users", "create", "marc", "--role", "manager", "--store", "001"],
        input="motdepasse\nmotdepasse\n",
    )
    assert result.exit_code == 0, result.output
    assert "Utilisateur « marc » créé (manager)." in result.output
    user = db.session.query(User).filter_by(username="marc").one()
    assert user.store.code == "001" and user.has_role("manager") and not user.has_role("admin")
    assert db.session.query(AuditEntry).filter_by(action="user.create").count() == 1
    assert "motdepasse" not in str(db.session.query(AuditEntry).one().details)


def test_users_create_command_reports_errors_in_french(runner, store):
    result = runner.invoke(args=["users", "create", "marc", "--password", "motdepasse"])
    assert result.exit_code != 0
    assert "doit être rattaché à un magasin" in result.output
