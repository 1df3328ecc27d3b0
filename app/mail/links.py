"""The links emails carry: to a task or board in the dashboard, and the signed one-click
unsubscribe link (RFC 8058), which needs no sign-in and so carries whose and what it is."""

from __future__ import annotations

from urllib.parse import quote, urlencode

from itsdangerous import BadSignature, URLSafeSerializer

UNSUBSCRIBE_SALT = "taskwire.unsubscribe"


class Links:
    def __init__(self, public_url: str, secret_key: str) -> None:
        self.base = public_url.rstrip("/")
        self._secret = secret_key
        self._signer = URLSafeSerializer(secret_key, salt=UNSUBSCRIBE_SALT)

    def board(self, board_id: str, task_id: str | None = None) -> str:
        url = f"{self.base}/boards/{quote(board_id, safe='')}"
        return f"{url}?{urlencode({'task': task_id})}" if task_id else url

    def page(self, path: str, **query: str) -> str:
        return f"{self.base}{path}" + (f"?{urlencode(query)}" if query else "")

    def unsubscribe_token(self, user_id: str, what: str) -> str:
        """``what``: a notice kind, or "digest" for the daily digest."""
        return str(self._signer.dumps([user_id, what]))

    def unsubscribe(self, user_id: str, what: str) -> str:
        return self.page("/unsubscribe", token=self.unsubscribe_token(user_id, what))

    def account_token(self, token_id: str, purpose: str) -> str:
        """The link's token for a stored account token: its id, signed for its purpose."""
        return str(URLSafeSerializer(self._secret, salt=f"taskwire.{purpose}").dumps(token_id))

    def read_account_token(self, token: str, purpose: str) -> str | None:
        try:
            value = URLSafeSerializer(self._secret, salt=f"taskwire.{purpose}").loads(token)
        except BadSignature:
            return None
        return value if isinstance(value, str) else None

    def read_unsubscribe(self, token: str) -> tuple[str, str] | None:
        """(user id, what) of a token this server signed; None for anything else."""
        try:
            value = self._signer.loads(token)
        except BadSignature:
            return None
        if isinstance(value, list) and len(value) == 2 and all(isinstance(item, str) for item in value):
            return value[0], value[1]
        return None
