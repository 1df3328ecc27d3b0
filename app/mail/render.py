"""What an outbox message says: its subject, a plain-text and an HTML part (templates/email/),
links back to the dashboard, and for notifications the one-click unsubscribe headers.

Rendered when the message is sent, from its ``kind`` and ``data``, so a retry sends the same
words and a changed address or time zone applies to messages still waiting.
"""

from __future__ import annotations

import dataclasses
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from app.domain import clock
from app.domain.mail import NoticeKind, OutboxMessage, zone
from app.domain.models import User
from app.mail.links import Links

TEMPLATES = Path(__file__).resolve().parent.parent.parent / "templates" / "email"
DIGEST = "digest"
PASSWORD_RESET = "password_reset"
VERIFY_EMAIL = "verify_email"
CHANGE_EMAIL = "change_email"
ACCOUNT_KINDS = (PASSWORD_RESET, VERIFY_EMAIL, CHANGE_EMAIL)


@dataclasses.dataclass(slots=True)
class Content:
    subject: str
    lines: list[str] = dataclasses.field(default_factory=list)
    quote: str | None = None
    # (heading, [(text, url)]) sections: the digest's.
    sections: list[tuple[str, list[tuple[str, str]]]] = dataclasses.field(default_factory=list)
    action: tuple[str, str] | None = None  # (label, url)
    unsubscribe: str | None = None  # what the footer's link stops: a kind or "digest"


# task.changed: the parts of a task named in ``data.changes`` as a sentence says them.
FIELD_WORDS = {
    "title": "title",
    "description": "description",
    "priority": "priority",
    "labels": "labels",
    "assignees": "assignees",
    "due_date": "due date",
    "checklist": "checklist",
    "recurrence": "recurrence",
}


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def change_sentence(actor: str, title: str, data: dict[str, Any]) -> str:
    """The sentence of a task.changed notice: Ada changed the title and priority of “Ship it”;
    Ada moved “Ship it” to Done and changed its due date; Ada archived “Ship it”."""
    changes = list(data.get("changes") or ())
    quoted = f"“{title}”"
    standalone = {
        "column": f"moved {quoted} to {data.get('column', 'another column')}",
        "attachment_added": f"attached {data.get('attachment', 'a file')} to {quoted}",
        "attachment_removed": f"removed {data.get('attachment', 'a file')} from {quoted}",
        "archived": f"archived {quoted}",
        "unarchived": f"brought {quoted} back from the archive",
        "trashed": f"moved {quoted} to the trash",
        "restored": f"restored {quoted} from the trash",
    }
    clauses = [standalone[change] for change in changes if change in standalone]
    fields = [FIELD_WORDS[change] for change in changes if change in FIELD_WORDS]
    if fields:
        clauses.append(f"changed its {_and(fields)}" if clauses else f"changed the {_and(fields)} of {quoted}")
    return f"{actor} {_and(clauses or [f'changed {quoted}'])}"


def local_time(at: str, time_zone: str) -> str:
    """A time as a person reads it in their zone: "Tue 1 Dec 2026, 14:30 (Europe/Paris)"."""
    moment = clock.parse_time(at).astimezone(zone(time_zone))
    return f"{moment:%a} {moment.day} {moment:%b %Y, %H:%M} ({time_zone})"


class Renderer:
    def __init__(self, links: Links, mail_from: str) -> None:
        self.links = links
        self._from = mail_from
        domain = parseaddr(mail_from)[1].rpartition("@")[2]
        self._domain = domain or "taskwire.invalid"
        self._env = Environment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
            undefined=StrictUndefined,
            keep_trailing_newline=True,
        )

    def summary(self, kind: str, data: dict[str, Any], time_zone: str) -> tuple[str, str]:
        """One line and its link: a notification's subject, and its line in a digest."""
        content = self.content(kind, data, time_zone)
        return content.subject, content.action[1] if content.action else self.links.base

    def content(self, kind: str, data: dict[str, Any], time_zone: str) -> Content:
        actor, title, board = data.get("actor_name", ""), data.get("task_title", ""), data.get("board_name", "")
        task_link = ("Open the task", self.links.board(data.get("board_id", ""), data.get("task_id")))
        on_board = f"On the board {board}."
        match kind:
            case NoticeKind.ASSIGNED:
                return Content(f"{actor} assigned you to “{title}”", [on_board], action=task_link, unsubscribe=kind)
            case NoticeKind.MENTIONED:
                return Content(
                    f"{actor} mentioned you on “{title}”",
                    [on_board],
                    quote=data.get("excerpt"),
                    action=task_link,
                    unsubscribe=kind,
                )
            case NoticeKind.ADDED_TO_BOARD:
                return Content(
                    f"{actor} added you to the board {board}",
                    [f"Your role: {data.get('role', 'member')}."],
                    action=("Open the board", self.links.board(data.get("board_id", ""))),
                    unsubscribe=kind,
                )
            case NoticeKind.CHANGED:
                if data.get("type") == "task.created":
                    subject = f"{actor} added “{title}” to the board {board}"
                else:
                    subject = change_sentence(actor, title, data)
                return Content(
                    subject,
                    [on_board, "You get this because you watch the task or its board."],
                    action=task_link,
                    unsubscribe=kind,
                )
            case NoticeKind.WATCHED:
                if data.get("type") == "comment.watched":
                    subject = f"{actor} commented on “{title}”"
                elif data.get("column"):
                    subject = f"{actor} moved “{title}” to {data['column']}"
                else:
                    subject = f"{actor} changed the due date of “{title}”"
                return Content(
                    subject,
                    [on_board, "You get this because you watch the task or its board."],
                    quote=data.get("excerpt"),
                    action=task_link,
                    unsubscribe=kind,
                )
            case NoticeKind.DUE_SOON:
                due = local_time(data["due_at"], time_zone)
                return Content(f"“{title}” is due {due}", [on_board], action=task_link, unsubscribe=kind)
            case NoticeKind.OVERDUE:
                due = local_time(data["due_at"], time_zone)
                return Content(
                    f"“{title}” is overdue", [f"It was due {due}.", on_board], action=task_link, unsubscribe=kind
                )
            case "digest":
                return Content(
                    f"Your Taskwire digest for {data['day']}",
                    sections=[(heading, [(text, url) for text, url in items]) for heading, items in data["sections"]],
                    action=("Open Taskwire", self.links.base),
                    unsubscribe=DIGEST,
                )
            case "password_reset":
                return Content(
                    "Reset your Taskwire password",
                    [
                        "Someone (we hope you) asked to reset the password of your Taskwire account.",
                        f"The link works once, until {local_time(data['expires_at'], time_zone)}. "
                        "Setting a new password signs you out everywhere else.",
                        "If it was not you, ignore this email: your password stays as it is.",
                    ],
                    action=self._signed_link("Choose a new password", "/reset-password", kind, data),
                )
            case "verify_email":
                return Content(
                    "Confirm your email address",
                    ["Confirm that this address is yours to finish setting up your Taskwire account."],
                    action=self._signed_link("Confirm my address", "/verify-email", kind, data),
                )
            case "change_email":
                return Content(
                    "Confirm your new email address",
                    [
                        "Someone (we hope you) asked to use this address for their Taskwire account.",
                        f"The account moves to it once you follow this link, until "
                        f"{local_time(data['expires_at'], time_zone)}. Until then it keeps its current address.",
                        "If it was not you, ignore this email: nothing changes.",
                    ],
                    action=self._signed_link("Confirm my new address", "/verify-email", kind, data),
                )
            case "email_change_notice":
                return Content(
                    "Your Taskwire email address is being changed",
                    [
                        f"Your Taskwire account asked to change its email address to {data['new_email']}.",
                        "It changes once the link we sent there is followed; until then you sign in with this one.",
                        "If this was not you, someone may have your password: choose a new one now, and sign out "
                        "everywhere else with it.",
                    ],
                    action=("Reset my password", self.links.page("/forgot-password")),
                )
            case "address_in_use":
                attempt = (
                    "create a Taskwire account"
                    if data.get("attempt") == "register"
                    else "move another Taskwire account to it"
                )
                return Content(
                    "Someone tried to use your address on Taskwire",
                    [
                        f"Someone tried to {attempt} with this address. It already belongs to your account, "
                        "and nothing changed.",
                        "If it was you: sign in, or reset your password if you forgot it.",
                    ],
                    action=("Sign in", self.links.page("/signin")),
                )
        raise ValueError(f"no email for kind {kind!r}")

    def _signed_link(self, label: str, page: str, kind: str, data: dict[str, Any]) -> tuple[str, str]:
        """The button of an account email: ``page`` of the dashboard with the message's one-time token."""
        return label, self.links.page(page, token=self.links.account_token(data["token_id"], kind))

    def render(self, message: OutboxMessage, user: User, time_zone: str) -> EmailMessage:
        content = self.content(message.kind, message.data, time_zone)
        unsubscribe = self.links.unsubscribe(user.id, content.unsubscribe) if content.unsubscribe else None
        values = {"content": content, "user": user, "unsubscribe": unsubscribe, "base": self.links.base}
        email = EmailMessage()
        email["From"] = self._from
        # An account email may be for another address than the account's (a new one to confirm).
        email["To"] = Address(display_name=user.name, addr_spec=message.data.get("to") or user.email)
        email["Subject"] = content.subject
        email["Date"] = formatdate(localtime=False)
        # The same id on every attempt, so a receiving system can drop a repeat.
        email["Message-ID"] = f"<{message.id}@{self._domain}>"
        email["Auto-Submitted"] = "auto-generated"
        email["X-Taskwire-Kind"] = message.kind
        if unsubscribe:
            email["List-Unsubscribe"] = f"<{unsubscribe}>"
            email["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        email.set_content(self._env.get_template("message.txt").render(values))
        email.add_alternative(self._env.get_template("message.html").render(values), subtype="html")
        return email
