"""Every setting Taskwire reads, declared once with its type, bounds, default and meaning.

pydantic-settings reads them from the environment (``TASKWIRE_*``, and ``PORT``) once at
start-up; nothing else in the code base reads ``os.environ``. The README's settings table
is generated from this declaration (``python -m app settings-table``).
"""

from __future__ import annotations

import ipaddress
import logging
import os
import re
import secrets
import ssl
from collections.abc import Callable, Mapping
from email.utils import parseaddr
from pathlib import Path
from typing import Annotated, Any, Literal

import annotated_types
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, ValidationError
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, EnvSettingsSource, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict
from pydantic_settings.sources.utils import parse_env_vars

log = logging.getLogger(__name__)

ENV_PREFIX = "TASKWIRE_"
SECRET_KEY_FILE = "secret_key"
MIN_SECRET_KEY_LENGTH = 32
DAY = 24 * 3600


class SettingsError(ValueError):
    """A setting has a value Taskwire cannot run with; the message names it."""


def _comma_list(raw: object) -> object:
    if isinstance(raw, str):
        return tuple(item.strip() for item in raw.split(",") if item.strip())
    return raw


def _lower_case(entries: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(entry.lower() for entry in entries)


def _each(check: Callable[[str], object]) -> AfterValidator:
    """A comma-separated list's check: ``check`` raises ValueError naming the bad entry."""

    def check_all(entries: tuple[str, ...]) -> tuple[str, ...]:
        for entry in entries:
            check(entry)
        return entries

    return AfterValidator(check_all)


def _network(entry: str) -> None:
    try:
        ipaddress.ip_network(entry, strict=False)
    except ValueError:
        raise ValueError(f"{entry!r} is not an IP address or CIDR network") from None


_HOST_NAME = re.compile(r"[A-Za-z0-9_-]{1,63}(\.[A-Za-z0-9_-]{1,63})*\.?")


def _host_or_network(entry: str) -> None:
    # DestinationGuard compares a webhook URL's bare host name: a URL or a host:port here never matches.
    if "/" in entry or not _HOST_NAME.fullmatch(entry):
        try:
            _network(entry)
        except ValueError:
            raise ValueError(f"{entry!r} is not a host name, IP address or CIDR network") from None


# Origin headers are compared whole (app/api/http_policy.py, app/api/websocket.py), and a
# browser sends scheme://host[:port] in lower case, without a path or the scheme's default port:
# an entry written any other way would never match, so it is refused rather than ignored.
_ORIGIN = re.compile(
    r"(?P<scheme>[a-z][a-z0-9+.-]*)://([a-z0-9_-]+(\.[a-z0-9_-]+)*|\[[0-9a-f:.]+\])(:(?P<port>[0-9]{1,5}))?"
)
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin(entry: str) -> None:
    match = _ORIGIN.fullmatch(entry)
    port = int(match["port"]) if match and match["port"] else None
    if match is None or (port is not None and (not 1 <= port <= 65535 or _DEFAULT_PORTS.get(match["scheme"]) == port)):
        raise ValueError(
            f"{entry!r} is not an origin as browsers send it: scheme://host[:port] in lower case, "
            "without a path, a trailing slash or the default port"
        )


# The API's own check of an account's email (app/api/schemas.py): an administrator's must be one.
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def _email(entry: str) -> None:
    if len(entry) > 254 or not _EMAIL.fullmatch(entry):
        raise ValueError(f"{entry!r} is not an email address")


def _ip_address(text: str) -> str:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        raise ValueError(f"{text!r} is not an IP address") from None
    return text


# One list for the setting's check and the broker's URL parser (app/broker/redis_endpoints.py).
REDIS_URL_SCHEMES = (
    "redis://",
    "rediss://",
    "unix://",
    "redis+sentinel://",
    "rediss+sentinel://",
    "redis+cluster://",
    "rediss+cluster://",
)


def _url_scheme(*schemes: str) -> AfterValidator:
    def check(url: str) -> str:
        if url and not url.startswith(schemes):
            raise ValueError(f"must start with {' or '.join(schemes)}, got {url.split(':')[0]!r}")
        return url

    return AfterValidator(check)


def _mailbox(text: str) -> str:
    # parseaddr reads "Name <local@domain>" or a bare address; a line break would end the header.
    local, _, domain = parseaddr(text)[1].rpartition("@")
    if not local or not domain or "\r" in text or "\n" in text:
        raise ValueError("must be an email address, `Name <name@example.com>` or `name@example.com`")
    return text


# sentry-sdk's own reading of a DSN: {scheme}://{key}@{host}{path}/{numeric project id}.
_SENTRY_DSN = re.compile(r"https?://[^\s@/]+@[^\s/?#]+(/[^\s/?#]+)*/[0-9]+")


def _sentry_dsn(dsn: str) -> str:
    if dsn and not _SENTRY_DSN.fullmatch(dsn):
        raise ValueError("must be a Sentry DSN, https://key@host/project-id")
    return dsn


def _directory_or_missing(path: Path) -> Path:
    # Checked here, not created: nothing is written before every setting is known good.
    if path.exists() and not path.is_dir():
        raise ValueError("exists and is not a directory")
    return path


def _ca_file(path: Path | None) -> Path | None:
    if path is not None:
        try:
            ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_verify_locations(cafile=path)
        except ssl.SSLError:  # an OSError too: before the one below
            raise ValueError("holds no PEM certificates") from None
        except OSError as error:
            raise ValueError(f"cannot be read: {error.strerror}") from None
    return path


def _secret_key(key: str) -> str:
    if key and len(key) < MIN_SECRET_KEY_LENGTH:
        raise ValueError(f"must be at least {MIN_SECRET_KEY_LENGTH} characters")
    return key


CommaList = Annotated[tuple[str, ...], NoDecode, BeforeValidator(_comma_list)]
Seconds = Annotated[float, Field(allow_inf_nan=False)]
# How often a webhook or an email is tried before it is given up: one range for both.
Attempts = Annotated[int, Field(ge=1, le=1000)]


def _setting(default: Any, description: str, *, env: str | None = None, **constraints: Any) -> Any:
    """One setting's default, meaning (the settings table's) and ``Field`` constraints.

    ``env`` names its variable where that is not TASKWIRE_ + the field's name (kept for compatibility).
    """
    if env is not None:
        constraints["validation_alias"] = env
    return Field(default, description=description, **constraints)


# Webhooks and emails are retried alike (DeliveryPolicy, app/webhooks/delivery.py): exponential
# backoff with full jitter from a first delay to a cap, each declared here once for both.
def _first_retry_delay(default: float, what: str, env: str) -> Any:
    return _setting(
        default, f"first {what} retry delay, seconds (exponential to the cap, full jitter)", env=env, ge=0.001, le=3600
    )


def _longest_retry_delay(default: float, what: str, env: str) -> Any:
    return _setting(default, f"longest {what} retry delay, seconds", env=env, ge=0.001, le=7 * DAY)


class OidcProvider(BaseModel):
    """One OpenID Connect provider of ``TASKWIRE_OIDC_PROVIDERS`` (docs/identity.md)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")]
    name: Annotated[str, StringConstraints(min_length=1, max_length=80)]
    issuer: Annotated[str, StringConstraints(pattern=r"^https?://[^\s?#]+$")]
    client_id: Annotated[str, StringConstraints(min_length=1, max_length=500)]
    client_secret: Annotated[str, StringConstraints(min_length=1, max_length=2000), Field(repr=False)]
    allowed_domains: tuple[str, ...] = ()
    scopes: str = "openid email profile"
    # Microsoft Entra sends no email_verified; its optional claim xms_edov says the same.
    email_verified_claim: str = "email_verified"


def _unique_providers(providers: tuple[OidcProvider, ...]) -> tuple[OidcProvider, ...]:
    ids = [provider.id for provider in providers]
    if len(set(ids)) != len(ids):
        raise ValueError("each provider needs an id of its own")
    return providers


class Settings(BaseSettings):
    """Taskwire's settings. Fields without an alias are read from ``TASKWIRE_<NAME>``."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_ignore_empty=True,
        frozen=True,
        validate_by_name=True,
        validate_by_alias=True,
        allow_inf_nan=False,
        extra="forbid",
    )

    port: int = _setting(8000, "HTTP port of `python -m app serve`", env="PORT", ge=1, le=65535)
    workers: int = _setting(
        0,
        "processes of `python -m app serve` sharing the port, each with its own hub "
        "(more than one needs `TASKWIRE_REDIS_URL`); 0: `workers` of hypercorn.toml",
        ge=0,
        le=512,
    )
    host: Annotated[str, AfterValidator(_ip_address)] = _setting(
        "0.0.0.0",
        "address `python -m app serve` binds: `0.0.0.0` is every IPv4 interface (containers); "
        "`make run` passes `127.0.0.1`, this machine only",
    )
    data_dir: Annotated[Path, AfterValidator(_directory_or_missing)] = _setting(
        Path("data"), "where the SQLite file and a generated secret key live (a directory, created if missing)"
    )
    database_url: Annotated[str, _url_scheme("sqlite:///", "mongodb://", "mongodb+srv://")] = _setting(
        "",
        "`sqlite:///path` or `mongodb://host/db?...`; unset: `sqlite:///$TASKWIRE_DATA_DIR/taskwire.db`",
        repr=False,
    )
    redis_url: Annotated[str, _url_scheme(*REDIS_URL_SCHEMES)] = _setting(
        "",
        "`redis://host:6379/0`: pub/sub fan-out and shared state across instances; "
        "`redis+sentinel://s1:26379,s2:26379/MASTER/DB` or "
        "`redis+cluster://n1:7000,n2:7001` (`rediss+…`: TLS) for Sentinel or a cluster; "
        "unset: in-process broker (one instance)",
        repr=False,
    )
    secret_key: Annotated[str, AfterValidator(_secret_key)] = _setting(
        "",
        f"signs access tokens; set the same value on every instance (≥ {MIN_SECRET_KEY_LENGTH} chars); "
        f"unset: generated in the data dir (mode 0600), with a warning",
        repr=False,
    )
    access_token_ttl_seconds: int = _setting(
        15 * 60, "access JWT lifetime, seconds", env="TASKWIRE_ACCESS_TOKEN_TTL", ge=10, le=DAY
    )
    refresh_token_ttl_seconds: int = _setting(
        30 * DAY, "refresh token lifetime, seconds (30 days)", env="TASKWIRE_REFRESH_TOKEN_TTL", ge=60, le=365 * DAY
    )
    jwt_issuer: str = _setting(
        "taskwire", "`iss` claim of the access tokens Taskwire signs and accepts", min_length=1, max_length=200
    )
    cors_origins: Annotated[CommaList, _each(_origin)] = _setting(
        (),
        "comma-separated origins allowed for CORS and WebSocket `Origin`, each `scheme://host[:port]` "
        "as browsers send it (`https://app.example.com`: no path, no trailing slash)",
    )
    trusted_proxies: Annotated[CommaList, _each(_network)] = _setting(
        (), "comma-separated addresses or CIDR networks of proxies whose `X-Forwarded-For` is believed"
    )
    admin_emails: Annotated[CommaList, AfterValidator(_lower_case), _each(_email)] = _setting(
        (), "comma-separated emails of the instance administrators; empty: the first account registered"
    )
    registration_open: bool = _setting(
        True,
        "anyone may create an account; `false` closes registration whatever the administrator's "
        "switch says (invitations and single sign-on still create accounts)",
    )
    oidc_providers: Annotated[tuple[OidcProvider, ...], AfterValidator(_unique_providers)] = _setting(
        (),
        "JSON list of OpenID Connect providers for single sign-on, each "
        '`{"id", "name", "issuer", "client_id", "client_secret", "allowed_domains"?}` (docs/identity.md)',
        repr=False,
    )
    public_url: Annotated[str, StringConstraints(pattern=r"^(https?://[^\s?#]+[^/\s?#])?$")] = _setting(
        "",
        "the address people open Taskwire at, e.g. `https://tasks.example.com`: single sign-on's "
        "redirect URI and the links in emails are built on it; unset: the request's own "
        "(emails: `http://localhost:<PORT>`)",
    )
    secure_cookies: bool = _setting(False, "mark the refresh cookie `Secure` (behind TLS)")
    hsts: bool = _setting(
        False, "send `Strict-Transport-Security` (only behind TLS: a browser then refuses plain HTTP for two years)"
    )
    max_body_bytes: int = _setting(1024 * 1024, "larger request bodies get 413", ge=1024, le=64 * 1024 * 1024)
    attachment_max_bytes: int = _setting(
        25 * 1024 * 1024, "largest attachment a task takes; larger uploads get 413", ge=1, le=1024 * 1024 * 1024
    )
    board_attachment_quota_bytes: int = _setting(
        1024 * 1024 * 1024,
        "bytes all of one board's attachments may take together (0: no quota); past it uploads get 413",
        ge=0,
        le=1024**4,
    )
    import_max_bytes: int = _setting(
        512 * 1024 * 1024,
        "largest file an import job takes (uploaded in parts of `max_body_bytes`)",
        ge=1024,
        le=16 * 1024**3,
    )
    import_lease_seconds: float = _setting(
        30.0, "an import job stalled this long (its instance crashed) is resumed", gt=0, le=3600
    )
    log_level: Annotated[
        Literal["DEBUG", "INFO", "WARNING", "ERROR"],
        BeforeValidator(lambda raw: raw.upper() if isinstance(raw, str) else raw),
    ] = _setting("INFO", "`DEBUG`, `INFO`, `WARNING`, `ERROR`")
    sentry_dsn: Annotated[str, AfterValidator(_sentry_dsn)] = _setting(
        "", "report errors to Sentry, `https://key@host/project-id` (needs `sentry-sdk` installed)", repr=False
    )
    # The argon2 cost is a setting so that tests and benchmarks can lower it knowingly.
    argon2_time_cost: int = _setting(3, "password hashing passes (tests lower it)", ge=1, le=20)
    argon2_memory_kib: int = _setting(65536, "password hashing memory, KiB (tests lower it)", ge=8, le=4 * 1024 * 1024)
    ws_auth_timeout_seconds: Seconds = _setting(
        10.0, "seconds a socket has to send its auth message", env="TASKWIRE_WS_AUTH_TIMEOUT", ge=0.1, le=300
    )
    ws_max_boards: int = _setting(50, "subscriptions per socket", ge=1, le=10_000)
    ws_send_queue: int = _setting(1000, "messages queued per socket before it is closed with 4408", ge=1, le=1_000_000)
    ws_max_message_bytes: int = _setting(
        65536, "larger client frames close the socket with 1009", ge=1024, le=16 * 1024 * 1024
    )
    ws_write_delay_seconds: Seconds = _setting(
        0.0,
        "seconds a socket's messages may wait to go out together as one frame (fewer "
        "writes under a high event rate, that much more latency); 0: off",
        env="TASKWIRE_WS_WRITE_DELAY",
        ge=0,
        le=1,
    )
    document_settle_seconds: Seconds = _setting(
        2.0,
        "seconds without typing after which a co-edited description is written to the task (one `task.updated`)",
        ge=0.05,
        le=600,
    )
    replay_limit: int = _setting(
        1000, "events replayed on subscribe-with-since before answering `reset`", ge=1, le=1_000_000
    )
    sse_keepalive_seconds: Seconds = _setting(
        15.0,
        "seconds of silence after which an event stream sends a comment line (proxies drop idle connections)",
        env="TASKWIRE_SSE_KEEPALIVE",
        ge=0.1,
        le=300,
    )
    rate_limit_auth_per_minute: int = _setting(
        10,
        "requests per minute per client IP on each of register, login and refresh",
        env="TASKWIRE_RATE_LIMIT_AUTH",
        ge=1,
        le=1_000_000,
    )
    rate_limit_api_per_minute: int = _setting(
        1200, "authenticated requests per minute per user", env="TASKWIRE_RATE_LIMIT_API", ge=1, le=10_000_000
    )
    rate_limit_ws_messages_per_minute: int = _setting(
        600,
        "WebSocket messages per minute per user sent to the server",
        env="TASKWIRE_RATE_LIMIT_WS",
        ge=1,
        le=10_000_000,
    )
    cache: bool = _setting(True, "cache board reads in Redis (only when `TASKWIRE_REDIS_URL` is set)")
    webhook_allow_hosts: Annotated[CommaList, _each(_host_or_network)] = _setting(
        (), "comma-separated hosts or CIDRs webhooks may call although private or loopback"
    )
    webhook_retry_base_seconds: Seconds = _first_retry_delay(1.0, "webhook", "TASKWIRE_WEBHOOK_RETRY_BASE")
    webhook_retry_cap_seconds: Seconds = _longest_retry_delay(600.0, "webhook", "TASKWIRE_WEBHOOK_RETRY_CAP")
    webhook_max_failures: Attempts = _setting(
        15, "consecutive failed attempts after which a webhook is switched off (`webhook.disabled`)"
    )
    webhook_timeout_seconds: Seconds = _setting(
        10.0,
        "seconds a receiver has to answer (connect: 5 at most)",
        env="TASKWIRE_WEBHOOK_TIMEOUT",
        ge=0.1,
        le=300,
    )
    webhook_lease_ttl_seconds: Seconds = _setting(
        60.0,
        "seconds an instance holds a webhook it delivers; a crashed one's is taken over after it",
        env="TASKWIRE_WEBHOOK_LEASE_TTL",
        ge=0.3,
        le=3600,
    )
    webhook_poll_seconds: Seconds = _setting(
        5.0,
        "seconds between scans for webhook work besides the wake-ups of local events",
        env="TASKWIRE_WEBHOOK_POLL_INTERVAL",
        ge=0.01,
        le=3600,
    )
    # -- email (docs/notifications.md) -------------------------------------------------
    smtp_url: Annotated[str, _url_scheme("smtp://", "smtps://")] = _setting(
        "",
        "SMTP server email goes out through, `smtp://user:pass@host:587?starttls=true` "
        "(`smtps://` for TLS from the start); unset: no email is sent",
        repr=False,
    )
    smtp_ca_file: Annotated[Path | None, AfterValidator(_ca_file)] = _setting(
        None, "a readable file of CA certificates (PEM) the SMTP server's certificate is checked against"
    )
    mail_from: Annotated[str, AfterValidator(_mailbox)] = _setting(
        "Taskwire <taskwire@localhost>",
        "the From address of every email Taskwire sends",
        min_length=3,
        max_length=200,
    )
    mail_poll_seconds: Seconds = _setting(
        5.0,
        "seconds between scans of the email outbox and the reminder schedule",
        env="TASKWIRE_MAIL_POLL_INTERVAL",
        ge=0.01,
        le=3600,
    )
    mail_lease_ttl_seconds: Seconds = _setting(
        60.0,
        "seconds an instance holds an email it sends; a crashed one's is sent by another after it",
        env="TASKWIRE_MAIL_LEASE_TTL",
        ge=0.3,
        le=3600,
    )
    mail_retry_base_seconds: Seconds = _first_retry_delay(30.0, "email", "TASKWIRE_MAIL_RETRY_BASE")
    mail_retry_cap_seconds: Seconds = _longest_retry_delay(3600.0, "email", "TASKWIRE_MAIL_RETRY_CAP")
    scheduler_interval_seconds: Seconds = _setting(
        60.0,
        "seconds between runs of the due-date reminder and daily digest scheduler",
        env="TASKWIRE_SCHEDULER_INTERVAL",
        ge=0.01,
        le=3600,
    )
    email_verification: Literal["off", "optional", "required"] = _setting(
        "off",
        "new accounts get a link to confirm their email address: `off`, `optional`, or `required` "
        "before they can sign in (needs `TASKWIRE_SMTP_URL`)",
    )
    password_reset_ttl_seconds: Seconds = _setting(
        3600.0, "how long a password reset link works, seconds", env="TASKWIRE_PASSWORD_RESET_TTL", ge=60, le=7 * DAY
    )
    mail_max_attempts: Attempts = _setting(10, "attempts at one email before it is given up (kept as failed)")
    release: str = _setting(
        "",
        "a name for this release, shown when the installed dashboard updates itself; "
        "unset: a hash of the dashboard's files",
        max_length=64,
        pattern=r"^[A-Za-z0-9._+-]*$",
    )
    trash_retention_days: float = _setting(
        30.0, "days a deleted task or board stays restorable in the trash", ge=0.0001, le=3650, allow_inf_nan=False
    )
    trash_purge_interval_seconds: Seconds = _setting(
        3600.0,
        "seconds between purges of expired trash (one instance purges at a time)",
        env="TASKWIRE_TRASH_PURGE_INTERVAL",
        ge=0.05,
        le=DAY,
    )
    invitation_ttl_days: float = _setting(
        7.0, "days an invitation link can be used", ge=0.0001, le=365, allow_inf_nan=False
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The environment only: no .env file or secrets directory read behind the operator's back.
        return init_settings, _DocumentedEnvSource(settings_cls)

    @property
    def sqlite_path(self) -> Path | None:
        url = self.effective_database_url
        if not url.startswith("sqlite:///"):
            return None
        return Path(url.removeprefix("sqlite:///"))

    @property
    def public_base_url(self) -> str:
        """What links made outside a request (emails, the operator's commands) start with."""
        return self.public_url or f"http://localhost:{self.port}"

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'taskwire.db'}"


class _DocumentedEnvSource(EnvSettingsSource):
    """The environment source, reading only the documented variables (``variables()``), from
    the process environment or from a given mapping.

    ``validate_by_name`` lets code build ``Settings(port=...)`` by field name; the environment
    must not follow it, or ``TASKWIRE_PORT`` would set what only ``PORT`` is documented to set,
    and a bad value would be reported under a variable its operator never wrote.
    """

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str] | None = None) -> None:
        self._environ = environ
        super().__init__(settings_cls)
        self.config = self.config | SettingsConfigDict(validate_by_name=False)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        if self._environ is None:
            return super()._load_env_vars()
        return parse_env_vars(self._environ, self.case_sensitive, self.env_ignore_empty, self.env_parse_none_str)


def variable_name(field: str) -> str:
    """The environment variable a field is read from."""
    alias = Settings.model_fields[field].validation_alias
    return alias if isinstance(alias, str) else ENV_PREFIX + field.upper()


def variables() -> dict[str, FieldInfo]:
    """Every variable Taskwire reads, with its declaration, in declaration order."""
    return {variable_name(field): info for field, info in Settings.model_fields.items()}


def _describe(error: Any) -> str:
    field = str(error["loc"][0]) if error["loc"] else ""
    by_variable = {name.lower(): name for name in variables()}
    name = by_variable.get(field.lower()) or (variable_name(field) if field in Settings.model_fields else field)
    info = variables().get(name)
    message = str(error["msg"]).removeprefix("Value error, ")
    message = message[:1].lower() + message[1:]
    if info is not None and info.repr and isinstance(error.get("input"), (str, int, float)):
        message += f", got {error['input']!r}"
    return f"{name}: {message}"


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read settings from ``environ`` (default: the process environment).

    Raises SettingsError with one line naming each bad variable (never echoing a secret).
    """
    try:
        if environ is None:
            return Settings()
        return Settings(_build_sources=((_DocumentedEnvSource(Settings, environ),), {}))
    except ValidationError as error:
        raise SettingsError("; ".join(_describe(item) for item in error.errors())) from None


def ensure_secret_key(settings: Settings) -> Settings:
    """Return settings with a secret key, generating and keeping one in the data dir if unset.

    The generated key is written with mode 0600 so that other local users cannot mint tokens.
    """
    if settings.secret_key:
        return settings
    path = settings.data_dir / SECRET_KEY_FILE
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        if path.exists():
            key = path.read_text().strip()
        else:
            key = secrets.token_urlsafe(48)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(key)
            log.warning(
                "TASKWIRE_SECRET_KEY is not set: generated one in %s; set it explicitly when running "
                "more than one instance",
                path,
            )
    except OSError as error:
        raise SettingsError(f"cannot keep the secret key in {path}: {error.strerror}") from None
    if len(key) < MIN_SECRET_KEY_LENGTH:
        raise SettingsError(f"the secret key in {path} is too short; delete it to generate a new one")
    return settings.model_copy(update={"secret_key": key})


def _shown_default(value: object) -> str:
    if value in ("", (), None):
        return "unset"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, float):
        return f"`{value:g}`"
    return f"`{value}`"


def _shown_range(info: FieldInfo) -> str:
    low = next((item.ge for item in info.metadata if isinstance(item, annotated_types.Ge)), None)
    high = next((item.le for item in info.metadata if isinstance(item, annotated_types.Le)), None)
    if low is None or high is None:
        return ""
    return " to ".join(f"{bound:,}" if isinstance(bound, int) else f"{bound:g}" for bound in (low, high))


def settings_table() -> str:
    """The README's settings table, in Markdown, from the declaration above."""
    rows = ["| variable | default | accepted | meaning |", "|---|---|---|---|"]
    for name, info in variables().items():
        rows.append(f"| `{name}` | {_shown_default(info.default)} | {_shown_range(info)} | {info.description} |")
    return "\n".join(rows) + "\n"
