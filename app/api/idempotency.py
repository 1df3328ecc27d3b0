"""The edge's side of idempotent POSTs and MCP writes: what of a first answer is kept and
replayed, and the board checks run again before a replay. The keys themselves (claims,
leases, fingerprints) are app/services/idempotency.py's."""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Iterable

from app.domain.caller import Caller
from app.domain.models import Role
from app.runtime import Runtime
from app.services.access import require_role
from app.services.idempotency import FirstAnswer, credential_scope

# Kept with a stored response and replayed; nothing else of the first response's headers is.
REPLAYED_HEADERS = ("Content-Type", "Location", "ETag", "Cache-Control")


@dataclasses.dataclass(frozen=True, slots=True)
class StoredResponse:
    status: int
    body: bytes
    headers: dict[str, str]


@dataclasses.dataclass(frozen=True, slots=True)
class IdempotentCall:
    """One write carrying an idempotency key, on behalf of its caller's credential."""

    runtime: Runtime
    caller: Caller
    key: str
    fingerprint: str

    @property
    def _scope(self) -> str:
        return credential_scope(self.caller.user.id, self.caller.session_id)

    async def claim(self) -> StoredResponse | None:
        """None: this call holds the key now and must run (then ``keep`` or ``release``). A
        StoredResponse: it already ran, and the caller still passes the board checks it
        passed; answer with it."""
        first = await self.runtime.services.idempotency.claim(self._scope, self.key, self.fingerprint)
        if first is None:
            return None
        for board_id, role in first.board_checks:
            await require_role(self.runtime.store, board_id, self.caller.user.id, Role(role))
        return StoredResponse(
            status=int(first.fields["status"]),
            body=base64.b64decode(first.fields["body"]),
            headers=dict(first.fields.get("headers") or {}),
        )

    async def keep(self, response: StoredResponse, board_checks: Iterable[tuple[str, str]]) -> None:
        """Keep the response for replays. One marked ``Cache-Control: no-store`` carries a
        secret (a new API token): only the fact that the call ran is kept."""
        idempotency = self.runtime.services.idempotency
        if "no-store" in response.headers.get("Cache-Control", ""):
            await idempotency.withhold(self._scope, self.key, self.fingerprint)
            return
        fields = {
            "status": response.status,
            "body": base64.b64encode(response.body).decode(),
            "headers": {name: value for name, value in response.headers.items() if name in REPLAYED_HEADERS},
        }
        await idempotency.complete(
            self._scope, self.key, self.fingerprint, FirstAnswer(fields, tuple(dict.fromkeys(board_checks)))
        )

    async def release(self) -> None:
        await self.runtime.services.idempotency.release(self._scope, self.key)
