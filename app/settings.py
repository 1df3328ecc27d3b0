"""Every setting Taskwire reads, declared once with its type, bounds, default and meaning.

pydantic-settings reads them from the environment (``TASKWIRE_*``, and ``PORT``) once at
start-up; nothing else in the code base reads ``os.environ``. The README's settings table
is generated from this declaration (``python -m app settings-table``).
"""

from __future__ import annotations

import ipaddress
import logging
import os
import secrets
from collections.abc import Mapping
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


def _networks(entries: tuple[str, ...]) -> tuple[str, ...]:
    for entry in entries:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise ValueError(f"{entry!r} is not an IP address or CIDR network") from None
    return entries


def _hosts_or_networks(entries: tuple[str, ...]) -> tuple[str, ...]:
    _networks(tuple(entry for entry in entries if "/" in entry))
    return entries


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


def _secret_key(key: str) -> str:
    if key and len(key) < MIN_SECRET_KEY_LENGTH:
        raise ValueError(f"must be at least {MIN_SECRET_KEY_LENGTH} characters")
    return key


CommaList = Annotated[tuple[str, ...], NoDecode, BeforeValidator(_comma_list)]
Seconds = Annotated[float, Field(allow_inf_nan=False)]


def _env(name: str) -> Any:
    """A setting whose variable is not TASKWIRE_ + its field name (kept for compatibility)."""
    return Field(validation_alias=name)


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

    port: Annotated[int, _env("PORT"), Field(ge=1, le=65535, description="HTTP port of `python -m app serve`")] = 8000
    workers: Annotated[
        int,
        Field(
            ge=0,
            le=512,
            description="processes of `python -m app serve` sharing the port, each with its own hub "
            "(more than one needs `TASKWIRE_REDIS_URL`); 0: `workers` of hypercorn.toml",
        ),
    ] = 0
    host: Annotated[
        str,
        AfterValidator(_ip_address),
        Field(
            description="address `python -m app serve` binds: `0.0.0.0` is every IPv4 interface (containers); "
            "`make run` passes `127.0.0.1`, this machine only"
        ),
    ] = "0.0.0.0"
    data_dir: Annotated[Path, Field(description="where the SQLite file and a generated secret key live")] = Path("data")
    database_url: Annotated[
        str,
        _url_scheme("sqlite:///", "mongodb://", "mongodb+srv://"),
        Field(
            repr=False,
            description="`sqlite:///path` or `mongodb://host/db?...`; unset: "
            "`sqlite:///$TASKWIRE_DATA_DIR/taskwire.db`",
        ),
    ] = ""
    redis_url: Annotated[
        str,
        _url_scheme(*REDIS_URL_SCHEMES),
        Field(
            repr=False,
            description="`redis://host:6379/0`: pub/sub fan-out and shared state across instances; "
            "`redis+sentinel://s1:26379,s2:26379/MASTER/DB` or "
            "`redis+cluster://n1:7000,n2:7001` (`rediss+…`: TLS) for Sentinel or a cluster; "
            "unset: in-process broker (one instance)",
        ),
    ] = ""
    secret_key: Annotated[
        str,
        AfterValidator(_secret_key),
        Field(
            repr=False,
            description=f"signs access tokens; set the same value on every instance "
            f"(≥ {MIN_SECRET_KEY_LENGTH} chars); unset: generated in the data dir "
            f"(mode 0600), with a warning",
        ),
    ] = ""
    access_token_ttl_seconds: Annotated[
        int, _env("TASKWIRE_ACCESS_TOKEN_TTL"), Field(ge=10, le=DAY, description="access JWT lifetime, seconds")
    ] = 15 * 60
    refresh_token_ttl_seconds: Annotated[
        int,
        _env("TASKWIRE_REFRESH_TOKEN_TTL"),
        Field(ge=60, le=365 * DAY, description="refresh token lifetime, seconds (30 days)"),
    ] = 30 * DAY
    jwt_issuer: Annotated[
        str,
        Field(min_length=1, max_length=200, description="`iss` claim of the access tokens Taskwire signs and accepts"),
    ] = "taskwire"
    cors_origins: Annotated[
        CommaList, Field(description="comma-separated origins allowed for CORS and WebSocket `Origin`")
    ] = ()
    trusted_proxies: Annotated[
        CommaList,
        AfterValidator(_networks),
        Field(description="comma-separated addresses or CIDR networks of proxies whose `X-Forwarded-For` is believed"),
    ] = ()
    admin_emails: Annotated[
        CommaList,
        AfterValidator(_lower_case),
        Field(description="comma-separated emails of the instance administrators; empty: the first account registered"),
    ] = ()
    registration_open: Annotated[
        bool,
        Field(
            description="anyone may create an account; `false` closes registration whatever the administrator's "
            "switch says (invitations and single sign-on still create accounts)"
        ),
    ] = True
    oidc_providers: Annotated[
        tuple[OidcProvider, ...],
        AfterValidator(_unique_providers),
        Field(
            repr=False,
            description="JSON list of OpenID Connect providers for single sign-on, each "
            '`{"id", "name", "issuer", "client_id", "client_secret", "allowed_domains"?}` (docs/identity.md)',
        ),
    ] = ()
    public_url: Annotated[
        str,
        StringConstraints(pattern=r"^(https?://[^\s?#]+[^/\s?#])?$"),
        Field(
            description="the address people open Taskwire at, e.g. `https://tasks.example.com`: single sign-on's "
            "redirect URI and the links in emails are built on it; unset: the request's own "
            "(emails: `http://localhost:<PORT>`)"
        ),
    ] = ""
    secure_cookies: Annotated[bool, Field(description="mark the refresh cookie `Secure` (behind TLS)")] = False
    hsts: Annotated[
        bool,
        Field(
            description="send `Strict-Transport-Security` (only behind TLS: a browser then refuses plain HTTP "
            "for two years)"
        ),
    ] = False
    max_body_bytes: Annotated[int, Field(ge=1024, le=64 * 1024 * 1024, description="larger request bodies get 413")] = (
        1024 * 1024
    )
    attachment_max_bytes: Annotated[
        int,
        Field(ge=1, le=1024 * 1024 * 1024, description="largest attachment a task takes; larger uploads get 413"),
    ] = 25 * 1024 * 1024
    board_attachment_quota_bytes: Annotated[
        int,
        Field(
            ge=0,
            le=1024**4,
            description="bytes all of one board's attachments may take together (0: no quota); past it uploads get 413",
        ),
    ] = 1024 * 1024 * 1024
    import_max_bytes: Annotated[
        int, Field(ge=1024, description="largest file an import job takes (uploaded in parts of `max_body_bytes`)")
    ] = 512 * 1024 * 1024
    import_lease_seconds: Annotated[
        float,
        Field(gt=0, le=3600, description="an import job stalled this long (its instance crashed) is resumed"),
    ] = 30.0
    log_level: Annotated[
        Literal["DEBUG", "INFO", "WARNING", "ERROR"],
        BeforeValidator(lambda raw: raw.upper() if isinstance(raw, str) else raw),
        Field(description="`DEBUG`, `INFO`, `WARNING`, `ERROR`"),
    ] = "INFO"
    sentry_dsn: Annotated[
        str, Field(repr=False, description="report errors to Sentry (needs `sentry-sdk` installed)")
    ] = ""
    # The argon2 cost is a setting so that tests and benchmarks can lower it knowingly.
    argon2_time_cost: Annotated[int, Field(ge=1, le=20, description="password hashing passes (tests lower it)")] = 3
    argon2_memory_kib: Annotated[
        int, Field(ge=8, le=4 * 1024 * 1024, description="password hashing memory, KiB (tests lower it)")
    ] = 65536
    ws_auth_timeout_seconds: Annotated[
        Seconds,
        _env("TASKWIRE_WS_AUTH_TIMEOUT"),
        Field(ge=0.1, le=300, description="seconds a socket has to send its auth message"),
    ] = 10.0
    ws_max_boards: Annotated[int, Field(ge=1, le=10_000, description="subscriptions per socket")] = 50
    ws_send_queue: Annotated[
        int, Field(ge=1, le=1_000_000, description="messages queued per socket before it is closed with 4408")
    ] = 1000
    ws_max_message_bytes: Annotated[
        int, Field(ge=1024, le=16 * 1024 * 1024, description="larger client frames close the socket with 1009")
    ] = 65536
    ws_write_delay_seconds: Annotated[
        Seconds,
        _env("TASKWIRE_WS_WRITE_DELAY"),
        Field(
            ge=0,
            le=1,
            description="seconds a socket's messages may wait to go out together as one frame (fewer "
            "writes under a high event rate, that much more latency); 0: off",
        ),
    ] = 0.0
    document_settle_seconds: Annotated[
        Seconds,
        Field(
            ge=0.05,
            le=600,
            description="seconds without typing after which a co-edited description is written to the task "
            "(one `task.updated`)",
        ),
    ] = 2.0
    replay_limit: Annotated[
        int, Field(ge=1, le=1_000_000, description="events replayed on subscribe-with-since before answering `reset`")
    ] = 1000
    sse_keepalive_seconds: Annotated[
        Seconds,
        _env("TASKWIRE_SSE_KEEPALIVE"),
        Field(
            ge=0.1,
            le=300,
            description="seconds of silence after which an event stream sends a comment line "
            "(proxies drop idle connections)",
        ),
    ] = 15.0
    rate_limit_auth_per_minute: Annotated[
        int,
        _env("TASKWIRE_RATE_LIMIT_AUTH"),
        Field(
            ge=1, le=1_000_000, description="requests per minute per client IP on each of register, login and refresh"
        ),
    ] = 10
    rate_limit_api_per_minute: Annotated[
        int,
        _env("TASKWIRE_RATE_LIMIT_API"),
        Field(ge=1, le=10_000_000, description="authenticated requests per minute per user"),
    ] = 1200
    rate_limit_ws_messages_per_minute: Annotated[
        int,
        _env("TASKWIRE_RATE_LIMIT_WS"),
        Field(ge=1, le=10_000_000, description="WebSocket messages per minute per user sent to the server"),
    ] = 600
    cache: Annotated[bool, Field(description="cache board reads in Redis (only when `TASKWIRE_REDIS_URL` is set)")] = (
        True
    )
    webhook_allow_hosts: Annotated[
        CommaList,
        AfterValidator(_hosts_or_networks),
        Field(description="comma-separated hosts or CIDRs webhooks may call although private or loopback"),
    ] = ()
    webhook_retry_base_seconds: Annotated[
        Seconds,
        _env("TASKWIRE_WEBHOOK_RETRY_BASE"),
        Field(
            ge=0.001, le=3600, description="first webhook retry delay, seconds (exponential to the cap, full jitter)"
        ),
    ] = 1.0
    webhook_retry_cap_seconds: Annotated[
        Seconds,
        _env("TASKWIRE_WEBHOOK_RETRY_CAP"),
        Field(ge=0.001, le=7 * DAY, description="longest webhook retry delay, seconds"),
    ] = 600.0
    webhook_max_failures: Annotated[
        int,
        Field(
            ge=1,
            le=1000,
            description="consecutive failed attempts after which a webhook is switched off (`webhook.disabled`)",
        ),
    ] = 15
    webhook_timeout_seconds: Annotated[
        Seconds,
        _env("TASKWIRE_WEBHOOK_TIMEOUT"),
        Field(ge=0.1, le=300, description="seconds a receiver has to answer (connect: 5 at most)"),
    ] = 10.0
    webhook_lease_ttl_seconds: Annotated[
        Seconds,
        _env("TASKWIRE_WEBHOOK_LEASE_TTL"),
        Field(
            ge=0.3,
            le=3600,
            description="seconds an instance holds a webhook it delivers; a crashed one's is taken over after it",
        ),
    ] = 60.0
    webhook_poll_seconds: Annotated[
        Seconds,
        _env("TASKWIRE_WEBHOOK_POLL_INTERVAL"),
        Field(
            ge=0.01, le=3600, description="seconds between scans for webhook work besides the wake-ups of local events"
        ),
    ] = 5.0
    # -- email (docs/notifications.md) -------------------------------------------------
    smtp_url: Annotated[
        str,
        _url_scheme("smtp://", "smtps://"),
        Field(
            repr=False,
            description=(
                "SMTP server email goes out through, `smtp://user:pass@host:587?starttls=true` "
                "(`smtps://` for TLS from the start); unset: no email is sent"
            ),
        ),
    ] = ""
    smtp_ca_file: Annotated[
        Path | None, Field(description="CA certificates (PEM) the SMTP server's certificate is checked against")
    ] = None
    mail_from: Annotated[
        str, Field(min_length=3, max_length=200, description="the From address of every email Taskwire sends")
    ] = "Taskwire <taskwire@localhost>"
    mail_poll_seconds: Annotated[
        Seconds,
        _env("TASKWIRE_MAIL_POLL_INTERVAL"),
        Field(ge=0.01, le=3600, description="seconds between scans of the email outbox and the reminder schedule"),
    ] = 5.0
    mail_lease_ttl_seconds: Annotated[
        Seconds,
        _env("TASKWIRE_MAIL_LEASE_TTL"),
        Field(
            ge=0.3,
            le=3600,
            description="seconds an instance holds an email it sends; a crashed one's is sent by another after it",
        ),
    ] = 60.0
    mail_retry_base_seconds: Annotated[
        Seconds,
        _env("TASKWIRE_MAIL_RETRY_BASE"),
        Field(ge=0.001, le=3600, description="first email retry delay, seconds (exponential to the cap, full jitter)"),
    ] = 30.0
    mail_retry_cap_seconds: Annotated[
        Seconds,
        _env("TASKWIRE_MAIL_RETRY_CAP"),
        Field(ge=0.001, le=7 * DAY, description="longest email retry delay, seconds"),
    ] = 3600.0
    scheduler_interval_seconds: Annotated[
        Seconds,
        _env("TASKWIRE_SCHEDULER_INTERVAL"),
        Field(ge=0.01, le=3600, description="seconds between runs of the due-date reminder and daily digest scheduler"),
    ] = 60.0
    email_verification: Annotated[
        Literal["off", "optional", "required"],
        Field(
            description=(
                "new accounts get a link to confirm their email address: `off`, `optional`, or `required` "
                "before they can sign in (needs `TASKWIRE_SMTP_URL`)"
            )
        ),
    ] = "off"
    password_reset_ttl_seconds: Annotated[
        Seconds,
        _env("TASKWIRE_PASSWORD_RESET_TTL"),
        Field(ge=60, le=7 * DAY, description="how long a password reset link works, seconds"),
    ] = 3600.0
    mail_max_attempts: Annotated[
        int, Field(ge=1, le=1000, description="attempts at one email before it is given up (kept as failed)")
    ] = 10
    release: Annotated[
        str,
        Field(
            max_length=64,
            pattern=r"^[A-Za-z0-9._+-]*$",
            description="a name for this release, shown when the installed dashboard updates itself; "
            "unset: a hash of the dashboard's files",
        ),
    ] = ""
    trash_retention_days: Annotated[
        float,
        Field(
            ge=0.0001,
            le=3650,
            allow_inf_nan=False,
            description="days a deleted task or board stays restorable in the trash",
        ),
    ] = 30.0
    trash_purge_interval_seconds: Annotated[
        Seconds,
        _env("TASKWIRE_TRASH_PURGE_INTERVAL"),
        Field(ge=0.05, le=DAY, description="seconds between purges of expired trash (one instance purges at a time)"),
    ] = 3600.0
    invitation_ttl_days: Annotated[
        float, Field(ge=0.0001, le=365, allow_inf_nan=False, description="days an invitation link can be used")
    ] = 7.0

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
        return init_settings, env_settings

    @property
    def sqlite_path(self) -> Path | None:
        url = self.effective_database_url
        if not url.startswith("sqlite:///"):
            return None
        return Path(url.removeprefix("sqlite:///"))

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'taskwire.db'}"


class _MappingEnvSource(EnvSettingsSource):
    """The environment source, reading a given mapping instead of the process environment."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        self._environ = environ
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
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
        return Settings(_build_sources=((_MappingEnvSource(Settings, environ),), {}))
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
    if value in ("", ()):
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
