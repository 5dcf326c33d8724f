from datetime import datetime

from flask import current_app
from flask_login import UserMixin
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from .base import utcnow

# Each role can do what the ones before it can.
ROLES = ("staff", "manager", "admin")


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    full_name: Mapped[str] = mapped_column(String(120), default="")
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(10), default="staff")
    # Staff and managers belong to one store; head office (admin) may have none.
    store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    locale: Mapped[str | None] = mapped_column(String(5))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    # Carried by every session and remember-me cookie (get_id): raising it ends them all.
    session_version: Mapped[int] = mapped_column(default=1, server_default="1")

    store = relationship("Store")

    @property
    def is_active(self):
        return self.active

    def get_id(self):
        return f"{self.id}:{self.session_version}"

    def end_sessions(self):
        """Every session and remember-me cookie of this person stops working."""
        self.session_version = (self.session_version or 1) + 1

    def set_password(self, password):
        # Tests set a cheap method; production keeps werkzeug's default (scrypt).
        method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password):
        return check_password_hash(self.password_hash, password)

    def has_role(self, role):
        """True when this user's role is `role` or above it."""
        return ROLES.index(self.role) >= ROLES.index(role)

    def __repr__(self):
        return f"<User {self.username} {self.role}>"
