"""The settings as ``load_settings`` reads them: only the documented variables, each within
bounds, and a bad value named by the variable its operator wrote (in process; the start-up
line itself is tests/ops/test_startup.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
import trustme

from app.settings import ENV_PREFIX, Settings, SettingsError, load_settings, variable_name


def refusal(environ: dict[str, str]) -> str:
    with pytest.raises(SettingsError) as error:
        load_settings(environ)
    message = str(error.value)
    assert "\n" not in message
    return message


# Fields read from a variable other than TASKWIRE_<FIELD>: the name built from the field is
# documented nowhere and must set nothing.
RENAMED = [field for field in Settings.model_fields if variable_name(field) != ENV_PREFIX + field.upper()]


def test_some_settings_are_read_from_a_variable_not_named_after_their_field() -> None:
    assert {"port", "ws_auth_timeout_seconds", "access_token_ttl_seconds"} <= set(RENAMED)


@pytest.mark.parametrize("field", RENAMED)
def test_a_variable_named_after_the_field_is_not_read(field: str) -> None:
    undocumented = ENV_PREFIX + field.upper()
    assert undocumented not in {variable_name(other) for other in Settings.model_fields}
    assert getattr(load_settings({undocumented: "nan"}), field) == Settings.model_fields[field].default


def test_the_documented_variable_is_read_and_a_bad_value_names_it() -> None:
    settings = load_settings({"PORT": "9001", "TASKWIRE_PORT": "9002", "TASKWIRE_WS_AUTH_TIMEOUT": "3"})
    assert (settings.port, settings.ws_auth_timeout_seconds) == (9001, 3.0)
    message = refusal(
        {"TASKWIRE_PORT": "abc", "TASKWIRE_WS_AUTH_TIMEOUT_SECONDS": "nan", "TASKWIRE_WS_AUTH_TIMEOUT": "inf"}
    )
    assert message == "TASKWIRE_WS_AUTH_TIMEOUT: input should be a finite number, got 'inf'"


def test_code_still_builds_settings_by_field_name() -> None:
    settings = Settings(port=9003, ws_auth_timeout_seconds=2.5)
    assert (settings.port, settings.ws_auth_timeout_seconds) == (9003, 2.5)


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("TASKWIRE_IMPORT_MAX_BYTES", "999999999999999", "less than or equal to 17179869184"),
        ("TASKWIRE_CORS_ORIGINS", "https://app.example.com/", "is not an origin"),
        ("TASKWIRE_CORS_ORIGINS", "https://app.example.com/board", "is not an origin"),
        ("TASKWIRE_CORS_ORIGINS", "https://app.example.com:443", "is not an origin"),
        ("TASKWIRE_CORS_ORIGINS", "https://app.example.com:70000", "is not an origin"),
        ("TASKWIRE_CORS_ORIGINS", "HTTPS://App.Example.com", "is not an origin"),
        ("TASKWIRE_CORS_ORIGINS", "app.example.com", "is not an origin"),
        ("TASKWIRE_CORS_ORIGINS", "https://ok.example.com,*", "'*' is not an origin"),
        ("TASKWIRE_CORS_ORIGINS", "null", "is not an origin"),
        ("TASKWIRE_ADMIN_EMAILS", "boss@example.test,root", "'root' is not an email address"),
        ("TASKWIRE_SENTRY_DSN", "sentry.example.com", "must be a Sentry DSN"),
        ("TASKWIRE_SENTRY_DSN", "https://key@sentry.example.com/project", "must be a Sentry DSN"),
        ("TASKWIRE_MAIL_FROM", "Taskwire", "must be an email address"),
        ("TASKWIRE_MAIL_FROM", "Taskwire <a@tasks.example>\r\nBcc: b@tasks.example", "must be an email address"),
        ("TASKWIRE_WEBHOOK_ALLOW_HOSTS", "https://hooks.internal", "is not a host name, IP address or CIDR"),
        ("TASKWIRE_WEBHOOK_ALLOW_HOSTS", "hooks.internal:8080", "is not a host name, IP address or CIDR"),
        ("TASKWIRE_WEBHOOK_ALLOW_HOSTS", "10.0.0.0/33", "is not a host name, IP address or CIDR"),
        ("TASKWIRE_SMTP_CA_FILE", "/nonexistent/smtp-ca.pem", "cannot be read: No such file or directory"),
    ],
)
def test_a_value_out_of_bounds_is_refused_naming_its_variable(variable: str, value: str, says: str) -> None:
    message = refusal({variable: value})
    assert message.startswith(f"{variable}: ") and says in message, message


def test_a_secret_value_out_of_bounds_is_not_echoed() -> None:
    assert "s3cr3t" not in refusal({"TASKWIRE_SENTRY_DSN": "https://s3cr3t@sentry.example.com"})


def test_a_ca_file_must_hold_pem_certificates(tmp_path: Path) -> None:
    not_pem = tmp_path / "ca.pem"
    not_pem.write_text("not a certificate\n")
    assert refusal({"TASKWIRE_SMTP_CA_FILE": str(not_pem)}).startswith(
        "TASKWIRE_SMTP_CA_FILE: holds no PEM certificates"
    )
    assert refusal({"TASKWIRE_SMTP_CA_FILE": str(tmp_path)}).startswith("TASKWIRE_SMTP_CA_FILE: cannot be read")
    trustme.CA().cert_pem.write_to_path(str(not_pem))
    assert load_settings({"TASKWIRE_SMTP_CA_FILE": str(not_pem)}).smtp_ca_file == not_pem


def test_the_data_dir_may_be_missing_but_not_a_file(tmp_path: Path) -> None:
    missing = tmp_path / "data"
    assert load_settings({"TASKWIRE_DATA_DIR": str(missing)}).data_dir == missing
    assert not missing.exists(), "nothing is created while the settings are read"
    missing.write_text("")
    assert refusal({"TASKWIRE_DATA_DIR": str(missing)}).startswith("TASKWIRE_DATA_DIR: exists and is not a directory")


def test_values_within_bounds_are_taken() -> None:
    settings = load_settings(
        {
            "TASKWIRE_IMPORT_MAX_BYTES": str(16 * 1024**3),
            "TASKWIRE_CORS_ORIGINS": "https://app.example.com, http://localhost:5173,http://[::1]:8080,capacitor://localhost",
            "TASKWIRE_ADMIN_EMAILS": "Boss@Example.test",
            "TASKWIRE_SENTRY_DSN": "https://key@o1.ingest.sentry.io/42",
            "TASKWIRE_MAIL_FROM": "Taskwire <notify@tasks.example>",
            "TASKWIRE_WEBHOOK_ALLOW_HOSTS": "hooks.internal,127.0.0.1,10.0.0.0/8,::1",
        }
    )
    assert settings.import_max_bytes == 16 * 1024**3
    assert settings.cors_origins == (
        "https://app.example.com",
        "http://localhost:5173",
        "http://[::1]:8080",
        "capacitor://localhost",
    )
    assert settings.admin_emails == ("boss@example.test",)
    assert settings.webhook_allow_hosts == ("hooks.internal", "127.0.0.1", "10.0.0.0/8", "::1")
