"""Every setting Taskwire reads, with its type and default, read from the environment once.

Nothing else in the code base reads ``os.environ``.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import logging
import os
import secrets
from pathlib import Path
from typing import Mapping

log = logging.getLogger(__name__)

ENV_PREFIX = "TASKWIRE_"
SECRET_KEY_FILE = "secret_key"
MIN_SECRET_KEY_LENGTH = 32


class SettingsError(ValueError):
    """A setting has a value Taskwire cannot run with; the message names it."""


@dataclasses.dataclass(frozen=True, slots=True)
class Settings:
    data_dir: Path = Path("data")
    database_url: str = ""  # empty: sqlite file in data_dir
    redis_url: str = ""  # empty: in-process broker
    secret_key: str = ""  # empty: generated once and kept in data_dir
    access_token_ttl_seconds: int = 15 * 60
    refresh_token_ttl_seconds: int = 30 * 24 * 3600
    jwt_issuer: str = "taskwire"
    cors_origins: tuple[str, ...] = ()
    max_body_bytes: int = 1024 * 1024
    port: int = 8000
    log_level: str = "INFO"
    # The argon2 cost is a setting so that tests and benchmarks can lower it knowingly.
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    ws_auth_timeout_seconds: float = 10.0
    ws_max_boards: int = 50
    ws_send_queue: int = 1000
    ws_max_message_bytes: int = 65536
    replay_limit: int = 1000
    sse_keepalive_seconds: float = 15.0  # a comment line on an idle event stream, for proxies
    rate_limit_auth_per_minute: int = 10  # per client IP, on each of register/login/refresh
    rate_limit_api_per_minute: int = 1200  # per user, every authenticated call
    rate_limit_ws_messages_per_minute: int = 600  # per user, WebSocket messages sent to us
    secure_cookies: bool = False
    hsts: bool = False  # only behind TLS: a browser then refuses plain HTTP for two years
    trusted_proxies: tuple[str, ...] = ()
    sentry_dsn: str = ""
    # The read cache lives in Redis, so it is on only when TASKWIRE_REDIS_URL is set.
    cache: bool = True
    # Webhooks (app/webhooks/): retry backoff, when to give up, lease and scan timing.
    webhook_retry_base_seconds: float = 1.0
    webhook_retry_cap_seconds: float = 600.0
    webhook_max_failures: int = 15
    webhook_lease_ttl_seconds: float = 60.0
    webhook_poll_seconds: float = 5.0
    webhook_timeout_seconds: float = 10.0
    webhook_allow_hosts: tuple[str, ...] = ()  # hosts or CIDRs admitted despite being private

    @property
    def sqlite_path(self) -> Path | None:
        url = self.database_url or f"sqlite:///{self.data_dir / 'taskwire.db'}"
        if not url.startswith("sqlite:///"):
            return None
        return Path(url.removeprefix("sqlite:///"))

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'taskwire.db'}"


def _parse_int(name: str, raw: str, minimum: int, maximum: int) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{ENV_PREFIX}{name} must be a whole number, got {raw!r}") from None
    if not minimum <= value <= maximum:
        raise SettingsError(f"{ENV_PREFIX}{name} must be between {minimum} and {maximum}, got {value}")
    return value


def _parse_bool(name: str, raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise SettingsError(f"{ENV_PREFIX}{name} must be true or false, got {raw!r}")


def _parse_list(raw: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in raw.split(",") if item.strip())


_INT_SETTINGS: dict[str, tuple[str, int, int]] = {
    "ACCESS_TOKEN_TTL": ("access_token_ttl_seconds", 10, 24 * 3600),
    "REFRESH_TOKEN_TTL": ("refresh_token_ttl_seconds", 60, 365 * 24 * 3600),
    "MAX_BODY_BYTES": ("max_body_bytes", 1024, 64 * 1024 * 1024),
    "ARGON2_TIME_COST": ("argon2_time_cost", 1, 20),
    "ARGON2_MEMORY_KIB": ("argon2_memory_kib", 8, 4 * 1024 * 1024),
    "WS_MAX_BOARDS": ("ws_max_boards", 1, 10000),
    "WS_SEND_QUEUE": ("ws_send_queue", 1, 1_000_000),
    "WS_MAX_MESSAGE_BYTES": ("ws_max_message_bytes", 1024, 16 * 1024 * 1024),
    "REPLAY_LIMIT": ("replay_limit", 1, 1_000_000),
    "RATE_LIMIT_AUTH": ("rate_limit_auth_per_minute", 1, 1_000_000),
    "RATE_LIMIT_API": ("rate_limit_api_per_minute", 1, 10_000_000),
    "RATE_LIMIT_WS": ("rate_limit_ws_messages_per_minute", 1, 10_000_000),
    "WEBHOOK_MAX_FAILURES": ("webhook_max_failures", 1, 1000),
}

_FLOAT_SETTINGS: dict[str, tuple[str, float, float]] = {
    "WEBHOOK_RETRY_BASE": ("webhook_retry_base_seconds", 0.001, 3600),
    "WEBHOOK_RETRY_CAP": ("webhook_retry_cap_seconds", 0.001, 7 * 24 * 3600),
    "WEBHOOK_LEASE_TTL": ("webhook_lease_ttl_seconds", 0.3, 3600),
    "WEBHOOK_POLL_INTERVAL": ("webhook_poll_seconds", 0.01, 3600),
    "WEBHOOK_TIMEOUT": ("webhook_timeout_seconds", 0.1, 300),
    "SSE_KEEPALIVE": ("sse_keepalive_seconds", 0.1, 300),
}


def _is_network(text: str) -> bool:
    try:
        ipaddress.ip_network(text, strict=False)
    except ValueError:
        return False
    return True


def _parse_float(name: str, raw: str, minimum: float, maximum: float) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{ENV_PREFIX}{name} must be a number of seconds, got {raw!r}") from None
    if not minimum <= value <= maximum:
        raise SettingsError(f"{ENV_PREFIX}{name} must be between {minimum:g} and {maximum:g}, got {raw}")
    return value


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read settings from ``environ`` (default: the process environment).

    Raises SettingsError with one line naming the bad setting.
    """
    env = os.environ if environ is None else environ

    def get(name: str) -> str | None:
        return env.get(ENV_PREFIX + name)

    values: dict[str, object] = {}
    if (raw := get("DATA_DIR")) is not None:
        values["data_dir"] = Path(raw)
    if (raw := get("DATABASE_URL")) is not None:
        if raw and not raw.startswith(("sqlite:///", "mongodb://", "mongodb+srv://")):
            raise SettingsError(
                f"{ENV_PREFIX}DATABASE_URL must start with sqlite:/// or mongodb://, got {raw.split(':')[0]!r}"
            )
        values["database_url"] = raw
    if (raw := get("REDIS_URL")) is not None:
        if raw and not raw.startswith(("redis://", "rediss://", "unix://")):
            raise SettingsError(f"{ENV_PREFIX}REDIS_URL must start with redis:// or rediss://")
        values["redis_url"] = raw
    if (raw := get("SECRET_KEY")) is not None and raw:
        if len(raw) < MIN_SECRET_KEY_LENGTH:
            raise SettingsError(f"{ENV_PREFIX}SECRET_KEY must be at least {MIN_SECRET_KEY_LENGTH} characters")
        values["secret_key"] = raw
    for name, (field, minimum, maximum) in _INT_SETTINGS.items():
        if (raw := get(name)) is not None:
            values[field] = _parse_int(name, raw, minimum, maximum)
    for name, (field, low, high) in _FLOAT_SETTINGS.items():
        if (raw := get(name)) is not None:
            values[field] = _parse_float(name, raw, low, high)
    if (raw := get("WEBHOOK_ALLOW_HOSTS")) is not None:
        values["webhook_allow_hosts"] = _parse_list(raw)
        for entry in values["webhook_allow_hosts"]:  # type: ignore[attr-defined]
            if "/" in entry and not _is_network(entry):
                raise SettingsError(f"{ENV_PREFIX}WEBHOOK_ALLOW_HOSTS: {entry!r} is not a valid CIDR network")
    if (raw := get("WS_AUTH_TIMEOUT")) is not None:
        try:
            values["ws_auth_timeout_seconds"] = float(raw)
        except ValueError:
            raise SettingsError(f"{ENV_PREFIX}WS_AUTH_TIMEOUT must be a number of seconds") from None
    if (raw := get("CORS_ORIGINS")) is not None:
        values["cors_origins"] = _parse_list(raw)
    if (raw := get("TRUSTED_PROXIES")) is not None:
        values["trusted_proxies"] = _parse_list(raw)
    for name in ("SECURE_COOKIES", "HSTS", "CACHE"):
        if (raw := get(name)) is not None:
            values[name.lower()] = _parse_bool(name, raw)
    if (raw := get("SENTRY_DSN")) is not None:
        values["sentry_dsn"] = raw
    if (raw := get("JWT_ISSUER")) is not None and raw:
        values["jwt_issuer"] = raw
    if (raw := get("LOG_LEVEL")) is not None:
        level = raw.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise SettingsError(f"{ENV_PREFIX}LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR")
        values["log_level"] = level
    if (raw := env.get("PORT")) is not None:
        values["port"] = _parse_int("PORT", raw, 1, 65535) if raw else 8000
    return Settings(**values)  # type: ignore[arg-type]


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
    return dataclasses.replace(settings, secret_key=key)
