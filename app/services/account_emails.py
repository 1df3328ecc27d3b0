"""Account emails: confirming an email address, and resetting a forgotten password.

Each sends a single-use link that expires (``AccountToken``, queued with its email in one
write). A reset sets the new password and ends every session of the account. With
``TASKWIRE_EMAIL_VERIFICATION=required`` (and SMTP configured) a new account must confirm
its address before it can sign in. Whether an account exists is never told: asking for a
reset answers the same for any address.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from app.domain import clock
from app.domain.errors import ConflictError, ForbiddenError, InvalidInputError
from app.domain.ids import new_id
from app.domain.mail import AccountPurpose, AccountToken, MailStatus, OutboxMessage
from app.domain.models import User
from app.mail.links import Links
from app.services.auth import AuthService
from app.services.passwords import check_new_password
from app.settings import Settings
from app.store.base import Store

VERIFY_EMAIL_TTL = timedelta(days=3)


def invalid_link() -> InvalidInputError:
    return InvalidInputError("invalid_token", "This link is not valid: it was used already, has expired, or is wrong.")


class AccountEmailService:
    def __init__(
        self, settings: Settings, store: Store, links: Links, auth: AuthService, wake_mail: Callable[[], None]
    ) -> None:
        self._store = store
        self._links = links
        self._auth = auth
        self._mail = bool(settings.smtp_url)
        self._reset_ttl = timedelta(seconds=settings.password_reset_ttl_seconds)
        self._verification = settings.email_verification if self._mail else "off"
        self.verification_required = self._verification == "required"
        self._wake = wake_mail

    async def _send(self, user: User, purpose: AccountPurpose, ttl: timedelta) -> None:
        now = clock.parse_time(clock.now())
        at, expires = clock.format_time(now), clock.format_time(now + ttl)
        token = AccountToken(new_id(), user.id, purpose, user.email, at, expires)
        data = {"token_id": token.id, "expires_at": expires}
        mail = OutboxMessage(new_id(), user.id, purpose.value, data, None, MailStatus.PENDING, 0, at, at)
        await self._store.create_account_token(token, mail)
        self._wake()

    async def registered(self, user: User) -> None:
        """Ask a new account to confirm its address (TASKWIRE_EMAIL_VERIFICATION)."""
        if self._verification != "off":
            await self._send(user, AccountPurpose.VERIFY_EMAIL, VERIFY_EMAIL_TTL)

    async def resend_verification(self, user: User) -> None:
        if not self._mail:
            raise ConflictError("email_disabled", "This server sends no email.")
        if await self._store.verified_email(user.id) != user.email:
            await self._send(user, AccountPurpose.VERIFY_EMAIL, VERIFY_EMAIL_TTL)

    async def check_may_sign_in(self, user: User) -> None:
        if self.verification_required and await self._store.verified_email(user.id) != user.email:
            raise ForbiddenError(
                "email_not_verified", "Confirm your email address first: follow the link we emailed you."
            )

    async def verify_email(self, token: str) -> str:
        """Confirm the address the link was sent to; returns it."""
        token_id = self._links.read_account_token(token, AccountPurpose.VERIFY_EMAIL)
        spent = token_id and await self._store.spend_account_token(token_id, AccountPurpose.VERIFY_EMAIL, clock.now())
        if not spent:
            raise invalid_link()
        user = await self._store.get_user(spent.user_id)
        if user is None or user.email != spent.email:
            raise invalid_link()  # the account changed its address since
        await self._store.mark_email_verified(user.id, user.email, clock.now())
        return user.email

    async def request_password_reset(self, email: str) -> None:
        if not self._mail:
            raise ConflictError("email_disabled", "This server sends no email; ask an administrator to reset it.")
        user = await self._store.get_user_by_email(email.strip().lower())
        if user is not None:
            await self._send(user, AccountPurpose.PASSWORD_RESET, self._reset_ttl)

    async def reset_password(self, token: str, password: str) -> None:
        check_new_password(password)  # before the link is spent
        token_id = self._links.read_account_token(token, AccountPurpose.PASSWORD_RESET)
        spent = token_id and await self._store.spend_account_token(token_id, AccountPurpose.PASSWORD_RESET, clock.now())
        if not spent:
            raise invalid_link()
        await self._auth.reset_password(spent.user_id, password)
        # Following the link proves the address, as a confirmation link would.
        user = await self._store.get_user(spent.user_id)
        if user is not None and user.email == spent.email:
            await self._store.mark_email_verified(user.id, user.email, clock.now())
