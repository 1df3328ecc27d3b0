"""Account emails: confirming an email address, moving an account to a new address, and
resetting a forgotten password.

Each sends a single-use link that expires (``AccountToken``, queued with its email in one
write). A reset sets the new password and ends every session of the account. With
``TASKWIRE_EMAIL_VERIFICATION=required`` (and SMTP configured) a new account must confirm
its address before it can sign in. Whether an account exists is never told: asking for a
reset answers the same for any address; so does registering while confirmation is
required, and asking to move an account to an address (the address's owner is told by
email instead, the one channel that reaches only them).

A new email, where the instance sends email, is taken only when the link sent to it is
followed: until then the account keeps its address, and that address is told of the change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import InitVar, field
from datetime import timedelta
from typing import Protocol

from app.domain import clock
from app.domain.errors import ConflictError, ForbiddenError, InvalidInputError
from app.domain.ids import new_id
from app.domain.mail import AccountPurpose, AccountToken, MailStatus, OutboxMessage
from app.domain.models import User
from app.mail.links import Links
from app.services.auth import AuthService
from app.services.passwords import check_new_password
from app.services.wiring import service
from app.settings import Settings
from app.store.base import AccountEmailStore, AccountStore, EmailTaken, MailStore, UserStore

VERIFY_EMAIL_TTL = timedelta(days=3)
CHANGE_EMAIL_TTL = timedelta(days=1)
# Mail kinds that carry no link (app/mail/render.py): sent to the address in data["to"].
EMAIL_CHANGE_NOTICE = "email_change_notice"
ADDRESS_IN_USE = "address_in_use"


def invalid_link() -> InvalidInputError:
    return InvalidInputError("invalid_token", "This link is not valid: it was used already, has expired, or is wrong.")


class AccountEmailServiceStore(AccountEmailStore, AccountStore, MailStore, UserStore, Protocol): ...


@service
class AccountEmailService:
    settings: InitVar[Settings]
    _store: AccountEmailServiceStore
    _links: Links
    _auth: AuthService
    _wake: Callable[[], None]
    _mail: bool = field(init=False)
    _ttls: dict[AccountPurpose, timedelta] = field(init=False)  # how long each purpose's link lasts
    _verification: str = field(init=False)
    verification_required: bool = field(init=False)

    def __post_init__(self, settings: Settings) -> None:
        self._mail = bool(settings.smtp_url)
        self._ttls = {
            AccountPurpose.VERIFY_EMAIL: VERIFY_EMAIL_TTL,
            AccountPurpose.CHANGE_EMAIL: CHANGE_EMAIL_TTL,
            AccountPurpose.PASSWORD_RESET: timedelta(seconds=settings.password_reset_ttl_seconds),
        }
        self._verification = settings.email_verification if self._mail else "off"
        self.verification_required = self._verification == "required"

    @property
    def sends_mail(self) -> bool:
        return self._mail

    async def _send(
        self, user: User, purpose: AccountPurpose, email: str | None = None, mail: OutboxMessage | None = None
    ) -> None:
        """A link for ``email`` (default: the account's address), in ``mail`` (default: the
        purpose's own email to that address)."""
        now = clock.parse_time(clock.now())
        at, expires = clock.format_time(now), clock.format_time(now + self._ttls[purpose])
        address = email or user.email
        token = AccountToken(new_id(), user.id, purpose, address, at, expires)
        data = {"token_id": token.id, "expires_at": expires, "to": address}
        mail = mail or OutboxMessage(new_id(), user.id, purpose.value, data, None, MailStatus.PENDING, 0, at, at)
        await self._store.create_account_token(token, mail)
        self._wake()

    async def _notify(self, user: User, kind: str, data: dict[str, str]) -> None:
        await self._store.enqueue_mail(self._notice(user, kind, data))
        self._wake()

    @staticmethod
    def _notice(user: User, kind: str, data: dict[str, str]) -> OutboxMessage:
        # The address is fixed now: the notice is about this address, whatever the account's is later.
        at = clock.now()
        return OutboxMessage(new_id(), user.id, kind, {"to": user.email, **data}, None, MailStatus.PENDING, 0, at, at)

    async def register(
        self, email: str, password: str, name: str, address: str, *, allow_when_closed: bool = False
    ) -> User | None:
        """A new account; None when the address has one already and confirmation is
        required: the answer is then the one a new account gets (its password was hashed
        all the same, so it takes as long), and the address's owner is told by email.
        ``allow_when_closed``: as ``AuthService.register``'s."""
        try:
            return await self._auth.register(email, password, name, address, allow_when_closed=allow_when_closed)
        except ConflictError as error:
            # Without required confirmation a new account is signed in at once: an address
            # already in use cannot get the same answer, so it is told (409 email_taken).
            if error.code != "email_taken" or not self.verification_required:
                raise
        owner = await self._store.get_user_by_email(email.strip().lower())
        if owner is not None:
            await self._notify(owner, ADDRESS_IN_USE, {"attempt": "register"})
        return None

    async def request_email_change(self, user: User, email: str) -> None:
        """A link to the new address (the change waits for it), a notice to the current one.
        An address another account has gets that account's owner a notice instead of the
        link; the requester is told nothing different (their pending change never completes)."""
        email = email.strip().lower()
        if email == user.email:
            return
        owner = await self._store.get_user_by_email(email)
        mail = None
        if owner is not None:
            mail = self._notice(owner, ADDRESS_IN_USE, {"attempt": "change_email"})
        await self._send(user, AccountPurpose.CHANGE_EMAIL, email, mail)
        await self._notify(user, EMAIL_CHANGE_NOTICE, {"new_email": email})

    async def pending_email(self, user_id: str) -> str | None:
        """The address the account asked to move to and has not confirmed yet."""
        pending = await self._store.pending_account_token(user_id, AccountPurpose.CHANGE_EMAIL, clock.now())
        return None if pending is None else pending.email

    async def email_verified(self, user: User) -> bool:
        return await self._store.verified_email(user.id) == user.email

    async def registered(self, user: User) -> None:
        """Ask a new account to confirm its address (TASKWIRE_EMAIL_VERIFICATION)."""
        if self._verification != "off":
            await self._send(user, AccountPurpose.VERIFY_EMAIL)

    async def resend_verification(self, user: User) -> None:
        if not self._mail:
            raise ConflictError("email_disabled", "This server sends no email.")
        if await self._store.verified_email(user.id) != user.email:
            await self._send(user, AccountPurpose.VERIFY_EMAIL)

    async def check_may_sign_in(self, user: User) -> None:
        if self.verification_required and await self._store.verified_email(user.id) != user.email:
            raise ForbiddenError(
                "email_not_verified", "Confirm your email address first: follow the link we emailed you."
            )

    async def verify_email(self, token: str) -> str:
        """Confirm the address the link was sent to (a new account's, or the one an account
        moves to); returns it."""
        token_id = self._links.read_account_token(token, AccountPurpose.VERIFY_EMAIL)
        if token_id is None and (change := self._links.read_account_token(token, AccountPurpose.CHANGE_EMAIL)):
            return await self._change_email(change)
        spent = token_id and await self._store.spend_account_token(token_id, AccountPurpose.VERIFY_EMAIL, clock.now())
        if not spent:
            raise invalid_link()
        user = await self._store.get_user(spent.user_id)
        if user is None or user.email != spent.email:
            raise invalid_link()  # the account changed its address since
        await self._store.mark_email_verified(user.id, user.email, clock.now())
        return user.email

    async def _change_email(self, token_id: str) -> str:
        at = clock.now()
        spent = await self._store.spend_account_token(token_id, AccountPurpose.CHANGE_EMAIL, at)
        if not spent:
            raise invalid_link()
        newer = await self._store.pending_account_token(spent.user_id, AccountPurpose.CHANGE_EMAIL, at)
        if newer is not None and newer.created_at >= spent.created_at:
            raise invalid_link()  # a later request replaced this one
        await set_email(self._store, self._auth, spent.user_id, spent.email)
        await self._store.mark_email_verified(spent.user_id, spent.email, clock.now())
        # Older links must not move the account back afterwards.
        while older := await self._store.pending_account_token(spent.user_id, AccountPurpose.CHANGE_EMAIL, at):
            await self._store.spend_account_token(older.id, AccountPurpose.CHANGE_EMAIL, at)
        return spent.email

    async def request_password_reset(self, email: str) -> None:
        if not self._mail:
            raise ConflictError("email_disabled", "This server sends no email; ask an administrator to reset it.")
        user = await self._store.get_user_by_email(email.strip().lower())
        if user is not None:
            await self._send(user, AccountPurpose.PASSWORD_RESET)

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


async def set_email(store: AccountStore, auth: AuthService, user_id: str, email: str) -> User:
    try:
        updated = await store.update_user_email(user_id, email, clock.now())
    except EmailTaken:
        raise ConflictError("email_taken", "An account with this email already exists.") from None
    await auth.forget_user(user_id)
    if updated is None:
        raise InvalidInputError("account_gone", "The account no longer exists.")
    return updated
