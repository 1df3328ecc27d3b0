"""Single sign-on with OpenID Connect providers (``TASKWIRE_OIDC_PROVIDERS``): the
authorization code flow with PKCE (RFC 7636), ``state`` bound to the browser that started
it, ``nonce`` in the ID token, the token exchange through authlib and the ID token checked
with joserfc against the provider's JWKS (signature, issuer, audience, authorized party,
expiry, issue time, nonce).

- Discovery documents are cached for ``DISCOVERY_TTL_SECONDS``; a signing key the cached
  JWKS does not hold (the provider rotated its keys) fetches the JWKS again once.
- The pending sign-in (nonce, code verifier, the hash of the browser's binding cookie) waits
  in the broker for ``PENDING_TTL_SECONDS``, so any instance can finish it, and is taken
  once: a replayed callback finds nothing.
- An account is created, or linked to the account with the same email, only when the
  provider says the email is verified (``email_verified``, or the provider's
  ``email_verified_claim``) and its domain is allowed; linking also needs the account to
  have confirmed that address here (else whoever registered it, or moved an account to it,
  without proving it would share the account with its owner). Later sign-ins find the
  account by the provider's ``sub``. Closed registration does not stop single sign-on. An
  account it creates has no password and its address counts as confirmed.
- ``reauthenticate``: the provider is asked to sign the person in again (``prompt=login``)
  and the browser comes back to the account page: how an account without a password
  confirms what needs a recent sign-in (app/services/auth.py ``confirm_password``).
- The session that follows is the one a password sign-in starts; the provider's own
  second factor applies, not Taskwire's.

``clock`` is the time ID tokens are checked against; tests set their own.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import InitVar, dataclass, field
from typing import Any, Protocol
from urllib.parse import quote_plus

import httpx
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri, prepare_token_request
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from app.broker.base import SharedValues
from app.domain import clock as clocks
from app.domain.errors import NotFoundError, UnauthenticatedError
from app.domain.models import ExternalIdentity, User
from app.services.auth import AuthService, refuse_disabled
from app.services.wiring import service
from app.settings import OidcProvider, Settings
from app.store.base import AccountEmailStore, IdentityStore, UserStore

log = logging.getLogger(__name__)

DISCOVERY_TTL_SECONDS = 3600.0
PENDING_TTL_SECONDS = 600.0
LEEWAY_SECONDS = 60
HTTP_TIMEOUT_SECONDS = 10.0
# Asymmetric only: an HMAC-signed ID token would be keyed with the client secret.
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
_PENDING_KEY = "oidc-pending:"
_TAKEN_KEY = "oidc-taken:"
LANDING = "/?signed_in=sso"
ACCOUNT_LANDING = "/account?signed_in=sso"


class SignOnError(UnauthenticatedError):
    """A single sign-on that cannot finish; the code says why (docs/identity.md)."""


@dataclass(slots=True, frozen=True)
class Started:
    authorization_url: str
    binding: str  # the browser keeps it in a cookie; the callback must bring it back


@dataclass(slots=True, frozen=True)
class SignedOn:
    user: User
    created: bool
    landing: str  # where the dashboard opens


@dataclass(slots=True)
class _Metadata:
    document: dict[str, Any]
    fetched_at: float
    keys: KeySet | None = None


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _domain_allowed(provider: OidcProvider, email: str) -> bool:
    if not provider.allowed_domains:
        return True
    domain = email.rpartition("@")[2].lower()
    return domain in {allowed.lower() for allowed in provider.allowed_domains}


def _is_true(value: object) -> bool:
    # Some providers send the boolean as a string.
    return value is True or value == "true"


class OidcServiceStore(AccountEmailStore, IdentityStore, UserStore, Protocol): ...


@service
class OidcService:
    settings: InitVar[Settings]
    _store: OidcServiceStore
    _broker: SharedValues
    _auth: AuthService
    _providers: dict[str, OidcProvider] = field(init=False)
    _metadata: dict[str, _Metadata] = field(init=False, default_factory=dict)
    clock: Callable[[], float] = field(init=False, default=time.time)

    def __post_init__(self, settings: Settings) -> None:
        self._providers = {provider.id: provider for provider in settings.oidc_providers}

    def providers(self) -> list[OidcProvider]:
        return list(self._providers.values())

    def _provider(self, provider_id: str) -> OidcProvider:
        provider = self._providers.get(provider_id)
        if provider is None:
            raise NotFoundError("sso_provider_not_found", "No such single sign-on provider.")
        return provider

    # -- starting --------------------------------------------------------------------
    async def start(self, provider_id: str, redirect_uri: str, reauthenticate: bool = False) -> Started:
        provider = self._provider(provider_id)
        metadata = await self._discover(provider)
        state, nonce, verifier, binding = (secrets.token_urlsafe(32) for _ in range(4))
        pending = {"provider": provider.id, "nonce": nonce, "verifier": verifier, "binding": _digest(binding)}
        if reauthenticate:
            pending["landing"] = ACCOUNT_LANDING
        await self._broker.set_value(_PENDING_KEY + state, json.dumps(pending), PENDING_TTL_SECONDS)
        url = prepare_grant_uri(
            metadata.document["authorization_endpoint"],
            provider.client_id,
            "code",
            redirect_uri=redirect_uri,
            scope=provider.scopes,
            state=state,
            nonce=nonce,
            code_challenge=create_s256_code_challenge(verifier),
            code_challenge_method="S256",
            **({"prompt": "login"} if reauthenticate else {}),
        )
        return Started(url, binding)

    # -- finishing -------------------------------------------------------------------
    async def finish(
        self, provider_id: str, params: dict[str, str], binding: str | None, redirect_uri: str, address: str
    ) -> SignedOn:
        """The callback: ``params`` is its query (code, state, iss, or error)."""
        provider = self._provider(provider_id)
        pending = await self._take_pending(params.get("state"), binding, provider)
        if "error" in params:
            raise SignOnError("sso_denied", f"The provider did not sign you in ({params['error'][:100]}).")
        metadata = await self._discover(provider)
        # RFC 9207: a response meant for another provider's flow is refused.
        if "iss" in params and params["iss"] != metadata.document["issuer"]:
            raise SignOnError("sso_wrong_issuer", "The answer came from another provider.")
        if not params.get("code"):
            raise SignOnError("sso_code_missing", "The provider sent no authorization code.")
        token = await self._exchange(provider, metadata, params["code"], pending["verifier"], redirect_uri)
        claims = await self.check_id_token(provider.id, token.get("id_token"), pending["nonce"])
        if "email" not in claims:
            claims = {**await self._userinfo(provider, metadata, token, claims["sub"]), **claims}
        user, created = await self._account(provider, claims, address)
        return SignedOn(user, created, pending.get("landing", LANDING))

    async def _take_pending(self, state: str | None, binding: str | None, provider: OidcProvider) -> dict[str, str]:
        if not state or len(state) > 200:
            raise SignOnError("sso_invalid_state", "This sign-in was not started here; start again.")
        raw = await self._broker.get_value(_PENDING_KEY + state)
        # The first callback with a state takes it, on whichever instance it arrives.
        if raw is None or not await self._broker.set_value_if_absent(_TAKEN_KEY + state, "1", PENDING_TTL_SECONDS):
            raise SignOnError("sso_invalid_state", "This sign-in expired or was already used; start again.")
        await self._broker.delete_value(_PENDING_KEY + state)
        pending: dict[str, str] = json.loads(raw)
        # Only the browser that started the sign-in may finish it (no login CSRF).
        if (
            binding is None
            or not hmac.compare_digest(pending["binding"], _digest(binding))
            or pending["provider"] != provider.id
        ):
            raise SignOnError("sso_invalid_state", "This sign-in was started in another browser; start again.")
        return pending

    async def _exchange(
        self, provider: OidcProvider, metadata: _Metadata, code: str, verifier: str, redirect_uri: str
    ) -> dict[str, Any]:
        body = prepare_token_request("authorization_code", code=code, redirect_uri=redirect_uri, code_verifier=verifier)
        try:
            async with httpx.AsyncClient(timeout=HTTP_TIMEOUT_SECONDS) as http:
                # client_secret_basic, the token endpoint's default authentication (RFC 6749 2.3.1).
                response = await http.post(
                    metadata.document["token_endpoint"],
                    content=body,
                    headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
                    auth=(quote_plus(provider.client_id), quote_plus(provider.client_secret)),
                )
            token = response.json()
        except (httpx.HTTPError, ValueError) as error:
            log.warning("the %s token endpoint cannot be reached: %s", provider.id, error)
            raise SignOnError("sso_provider_unavailable", "The provider cannot be reached; try again.") from None
        if response.status_code != 200 or not isinstance(token, dict):
            log.warning("the %s token endpoint refused the code: %s", provider.id, response.text[:300])
            raise SignOnError("sso_code_rejected", "The provider did not accept the sign-in (a used or expired code).")
        return token

    async def check_id_token(self, provider_id: str, id_token: object, nonce: str) -> dict[str, Any]:
        """The claims of an ID token from the provider, once it has passed every check."""
        provider = self._provider(provider_id)
        metadata = await self._discover(provider)
        if not isinstance(id_token, str):
            raise SignOnError("sso_invalid_id_token", "The provider sent no ID token.")
        try:
            kid = jws.extract_compact(id_token.encode()).headers().get("kid")
            keys = await self._keys(provider, metadata, kid)
            decoded = jwt.decode(id_token, keys, algorithms=list(ALGORITHMS))
            registry = jwt.JWTClaimsRegistry(
                now=lambda: int(self.clock()),
                leeway=LEEWAY_SECONDS,
                iss={"essential": True, "value": metadata.document["issuer"]},
                aud={"essential": True, "value": provider.client_id},
                sub={"essential": True},
                exp={"essential": True},
                iat={"essential": True},
                nonce={"essential": True, "value": nonce},
            )
            registry.validate(decoded.claims)
        except JoseError as error:
            code = "sso_id_token_expired" if error.error == "expired_token" else "sso_invalid_id_token"
            raise SignOnError(code, f"The provider's ID token was refused ({error.error}).") from None
        except ValueError:  # a malformed token, or a key the provider does not publish
            raise SignOnError("sso_invalid_id_token", "The provider's ID token was refused.") from None
        claims = dict(decoded.claims)
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if len(audiences) > 1 and claims.get("azp") != provider.client_id:
            raise SignOnError("sso_invalid_id_token", "The provider's ID token was issued to another party.")
        return claims

    async def _keys(self, provider: OidcProvider, metadata: _Metadata, kid: object) -> KeySet:
        known = metadata.keys
        if known is None or (isinstance(kid, str) and not any(key.kid == kid for key in known.keys)):
            # Keys rotate: one that is not in the cached set is fetched for.
            document: Any = await self._get_json(metadata.document["jwks_uri"])
            metadata.keys = known = KeySet.import_key_set(document)
        return known

    async def _userinfo(
        self, provider: OidcProvider, metadata: _Metadata, token: dict[str, Any], subject: str
    ) -> dict[str, Any]:
        endpoint = metadata.document.get("userinfo_endpoint")
        if not endpoint:
            return {}
        async with httpx.AsyncClient(timeout=HTTP_TIMEOUT_SECONDS) as http:
            response = await http.get(endpoint, headers={"Authorization": f"Bearer {token.get('access_token')}"})
        if response.status_code != 200:
            raise SignOnError("sso_userinfo_failed", "The provider did not say who you are.")
        info: dict[str, Any] = response.json()
        if info.get("sub") != subject:  # OpenID Connect Core 5.3.2
            raise SignOnError("sso_invalid_id_token", "The provider's user information is about someone else.")
        return info

    async def _account(self, provider: OidcProvider, claims: dict[str, Any], address: str) -> tuple[User, bool]:
        subject = str(claims["sub"])
        email = str(claims.get("email") or "").strip().lower()
        if not email or "@" not in email:
            raise SignOnError("sso_email_missing", "The provider did not share your email address.")
        if not _domain_allowed(provider, email):
            raise SignOnError("sso_email_domain_not_allowed", "Accounts of this email domain cannot sign in here.")
        linked = await self._store.get_identity(provider.id, subject)
        user = None if linked is None else await self._store.get_user(linked.user_id)
        if user is not None:
            refuse_disabled(user)
            return user, False
        if not _is_true(claims.get(provider.email_verified_claim)):
            raise SignOnError("sso_email_not_verified", "The provider has not verified your email address.")
        user = await self._store.get_user_by_email(email)
        created = user is None
        if user is None:
            name = str(claims.get("name") or email.partition("@")[0])[:100]
            # No password: the account signs in through the provider (or sets one after a reset).
            user = await self._auth.register(email, None, name, address, allow_when_closed=True)
            await self._store.mark_email_verified(user.id, email, clocks.now())
        elif await self._store.verified_email(user.id) != email:
            raise SignOnError(
                "sso_account_unverified",
                "An account here uses this address but never confirmed it: sign in with its password.",
            )
        refuse_disabled(user)
        await self._store.link_identity(
            ExternalIdentity(
                provider=provider.id, subject=subject, user_id=user.id, email=email, created_at=clocks.now()
            )
        )
        return user, created

    # -- provider metadata -------------------------------------------------------------
    async def _discover(self, provider: OidcProvider) -> _Metadata:
        cached = self._metadata.get(provider.id)
        if cached is not None and time.monotonic() - cached.fetched_at < DISCOVERY_TTL_SECONDS:
            return cached
        document = await self._get_json(provider.issuer.rstrip("/") + "/.well-known/openid-configuration")
        # OpenID Connect Discovery 4.3: the document must name the issuer we asked.
        if document.get("issuer") != provider.issuer:
            log.error("%s: discovery names issuer %r, not %r", provider.id, document.get("issuer"), provider.issuer)
            raise SignOnError("sso_provider_unavailable", "The provider is misconfigured.")
        for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not isinstance(document.get(name), str):
                raise SignOnError("sso_provider_unavailable", "The provider is misconfigured.")
        metadata = _Metadata(document, time.monotonic(), cached.keys if cached is not None else None)
        self._metadata[provider.id] = metadata
        return metadata

    async def _get_json(self, url: str) -> dict[str, Any]:
        try:
            async with httpx.AsyncClient(timeout=HTTP_TIMEOUT_SECONDS) as http:
                response = await http.get(url, headers={"Accept": "application/json"})
            response.raise_for_status()
            document = response.json()
        except (httpx.HTTPError, ValueError) as error:
            log.warning("cannot read %s: %s", url, error)
            raise SignOnError("sso_provider_unavailable", "The provider cannot be reached; try again.") from None
        if not isinstance(document, dict):
            raise SignOnError("sso_provider_unavailable", "The provider is misconfigured.")
        return document
