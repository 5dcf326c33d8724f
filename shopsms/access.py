"""Who may do what, and which stores' rows they see: every role and store check in one place.

Roles rank staff < manager < admin (head office), each doing what the ones before it do
(models.user.ROLES). Services, views and templates ask for a capability or a store scope
here, never for a role by name; a page's own role sits on its view (web/access.py
`role_required`), and `can.open(endpoint)` reads it there, so a menu, a tab or a link
shows exactly when its page would open.
"""

from typing import Any, Protocol

from flask import current_app


class Person(Protocol):
    """What the checks and the services read of a person: a User, or a stand-in in
    tests."""

    id: int
    store_id: int | None

    def has_role(self, role: str) -> bool: ...


# The role each capability needs; one row a capability.
CAPABILITIES = {
    "see_every_store": "admin",  # lists, counts and pickers of the whole chain
    "manage_stores": "admin",  # « Paramètres › Magasins », sending restored
    "top_up_credits": "admin",
    "share_messages": "admin",  # saved messages for the whole chain
    "watch_workers": "admin",  # the sending service's processes on the home page
    "close_reports": "manager",
    "export_client_data": "manager",  # the GDPR export of a client card
}


def has(user: Person | None, capability: str) -> bool:
    """Whether `user` has `capability` (a key of CAPABILITIES); nobody has any."""
    role = CAPABILITIES[capability]
    return user is not None and bool(user.has_role(role))


def every_store(user: Person | None) -> bool:
    """Head office: sees and acts on every store of the chain."""
    return has(user, "see_every_store")


def store_scope(user: Person) -> int | None:
    """The store whose rows the person sees; None means the whole chain."""
    return None if every_store(user) else user.store_id


def may_see_store(user: Person, store_id: int | None) -> bool:
    """Whether a row of `store_id` is the person's to see (head office: every row)."""
    return every_store(user) or (store_id is not None and store_id == user.store_id)


def scoped(query: Any, column: Any, user: Person) -> Any:
    """`query` limited to the person's store on `column`; the chain for head office."""
    if every_store(user):
        return query
    return query.where(column == user.store_id)


def requested_store(user: Person, store_id: int | None) -> int | None:
    """A store a person asked for (a list's filter): head office's choice, or nothing
    for anybody else, whose lists are their store's anyway."""
    return store_id if every_store(user) else None


def may_open(user: Person | None, endpoint: str) -> bool:
    """Whether `endpoint` exists and its view lets `user` in (its role_required)."""
    view = current_app.view_functions.get(endpoint)
    if view is None or user is None:
        return False
    role = getattr(view, "required_role", None)
    return role is None or bool(user.has_role(role))


class Capabilities:
    """What templates ask as `can.close_reports`, `can.see_every_store`, `can.open('x.y')`."""

    def __init__(self, user: Person | None) -> None:
        self._user = user

    def __getattr__(self, name: str) -> bool:
        if name not in CAPABILITIES:
            raise AttributeError(name)
        return has(self._user, name)

    def __getitem__(self, name: str) -> bool:
        return has(self._user, name)

    def open(self, endpoint: str) -> bool:
        return may_open(self._user, endpoint)
