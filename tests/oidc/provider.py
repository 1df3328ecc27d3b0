"""The tests' OpenID Provider: panva/oidc-provider on Node, installed by ``npm ci`` from the
committed package-lock.json into a gitignored cache (.cache/oidc-provider/<lock hash>/),
started on a free loopback port, and driven over HTTP like a person signing in."""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import httpx
import pytest
from joserfc.jwk import RSAKey

from tests.support.services import free_port, stop_process, wait_for_port

HERE = Path(__file__).resolve().parent / "provider"
REPO_ROOT = HERE.parents[2]
CACHE = REPO_ROOT / ".cache" / "oidc-provider"

CLIENT_ID = "taskwire"
CLIENT_SECRET = "taskwire-test-client-secret-0123456789"
OTHER_CLIENT_ID = "another-app"
OTHER_CLIENT_SECRET = "another-app-test-client-secret-012345"

# Logins the provider knows (any password signs them in).
ACCOUNTS = {
    "ada": {"email": "ada@example.test", "email_verified": True, "name": "Ada Lovelace"},
    "grace": {"email": "grace@example.test", "email_verified": True, "name": "Grace Hopper"},
    "mallory": {"email": "mallory@example.test", "email_verified": False, "name": "Mallory"},
    "outsider": {"email": "eve@elsewhere.test", "email_verified": True, "name": "Eve"},
    "linker": {"email": "linker@example.test", "email_verified": True, "name": "Linker"},
    "unverified-linker": {"email": "victim@example.test", "email_verified": False, "name": "Not the victim"},
}


def install() -> Path:
    """node_modules for the committed lock, installed once per lock."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("Node.js and npm are needed for the OpenID Provider tests (apt-get install nodejs npm)")
    lock = (HERE / "package-lock.json").read_bytes()
    target = CACHE / hashlib.sha256(lock).hexdigest()[:16]
    if not (target / "node_modules" / "oidc-provider").is_dir():
        target.mkdir(parents=True, exist_ok=True)
        for name in ("package.json", "package-lock.json"):
            shutil.copyfile(HERE / name, target / name)
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts"],
            cwd=target,
            check=True,
            capture_output=True,
            timeout=600,
        )
    shutil.copyfile(HERE / "provider.mjs", target / "provider.mjs")
    return target


def signing_key(kid: str) -> dict[str, Any]:
    key = RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig", "alg": "RS256"}, private=True)
    return key.as_dict(private=True)


@dataclass
class OpenIDProvider:
    """One provider process; ``restart`` brings it back on the same port and issuer,
    e.g. with new signing keys (a key rotation)."""

    home: Path
    workdir: Path
    redirect_uris: list[str]
    port: int = field(default_factory=free_port)
    keys: list[dict[str, Any]] = field(default_factory=lambda: [signing_key("key-1")])
    proc: subprocess.Popen | None = None

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        config = {
            "issuer": self.issuer,
            "port": self.port,
            "keys": self.keys,
            "accounts": ACCOUNTS,
            "clients": [
                {
                    "client_id": client_id,
                    "client_secret": secret,
                    "redirect_uris": self.redirect_uris,
                    "response_types": ["code"],
                    "grant_types": ["authorization_code"],
                }
                for client_id, secret in ((CLIENT_ID, CLIENT_SECRET), (OTHER_CLIENT_ID, OTHER_CLIENT_SECRET))
            ],
        }
        config_path = self.workdir / "provider.json"
        config_path.write_text(json.dumps(config))
        log = open(self.workdir / "provider.log", "ab")  # noqa: SIM115 (the process holds it)
        self.proc = subprocess.Popen(
            ["node", str(self.home / "provider.mjs"), str(config_path)],
            cwd=self.home,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        wait_for_port(self.port, proc=self.proc)

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc)
            self.proc = None

    def restart(self, keys: list[dict[str, Any]] | None = None) -> None:
        self.stop()
        if keys is not None:
            self.keys = keys
        self.start()

    def settings(self, **extra: Any) -> dict[str, Any]:
        """This provider as one entry of TASKWIRE_OIDC_PROVIDERS."""
        return {
            "id": "testidp",
            "name": "Test IdP",
            "issuer": self.issuer,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            **extra,
        }


@contextlib.contextmanager
def openid_provider(workdir: Path, redirect_uris: list[str]) -> Iterator[OpenIDProvider]:
    provider = OpenIDProvider(install(), workdir, redirect_uris)
    provider.start()
    try:
        yield provider
    finally:
        provider.stop()


_FORM = re.compile(r'<form[^>]*action="([^"]+)"[^>]*>(.*?)</form>', re.IGNORECASE | re.DOTALL)
_HIDDEN = re.compile(r'<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"', re.IGNORECASE)


async def sign_in_at_provider(http: httpx.AsyncClient, authorization_url: str, login: str) -> str:
    """Play the person at the provider (``http`` keeps its cookies): open the authorization
    URL, fill in the login form, accept the consent form; returns where the provider sends
    the browser back to (the client's redirect URI with code and state)."""
    issuer = str(http.base_url).rstrip("/")
    url = authorization_url
    for _ in range(20):
        if not url.startswith(issuer):
            return url
        response = await http.get(url)
        if response.is_redirect:
            url = urljoin(str(response.url), response.headers["location"])
            continue
        form = _FORM.search(response.text)
        if form is None:
            raise AssertionError(f"no form at {response.url} ({response.status_code}): {response.text[:500]}")
        data = {name: unescape(value) for name, value in _HIDDEN.findall(form.group(2))}
        if 'name="login"' in form.group(2):
            data |= {"login": login, "password": "any password"}
        response = await http.post(urljoin(str(response.url), unescape(form.group(1))), data=data)
        if not response.is_redirect:
            raise AssertionError(f"the form at {response.url} answered {response.status_code}: {response.text[:500]}")
        url = urljoin(str(response.url), response.headers["location"])
    raise AssertionError("the provider never sent the browser back")
