"""Reading an import file as a stream of neutral records, in bounded memory: a Trello export
with ijson (the board's lists, labels and members first, then its cards, then its actions
and checklists, each a pass over the file), a Planka board likewise (its tasks, Planka's
checklist items, in the last pass), a CSV file with the csv module and a column
mapping. Nothing but the board's small parts is ever held whole."""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import IO, Any

import ijson

from app.domain import clock
from app.services.checklists import MAX_ITEM_TEXT

MAX_COLUMNS = 20
TITLE_MAX = 300
DESCRIPTION_MAX = 20000
LABEL_MAX = 50
LABELS_MAX = 20
CSV_FIELDS = ("title", "description", "status", "labels", "due_at", "assignee", "id")


@dataclasses.dataclass(slots=True)
class SourceBoard:
    source_id: str
    name: str
    columns: list[str]  # the board's columns, in order
    column_of: dict[str, str]  # a source list id (or CSV status value) -> its column
    members: dict[str, str]  # a source member id -> a name to show


@dataclasses.dataclass(slots=True)
class SourceCard:
    source_id: str
    title: str
    description: str
    column_key: str  # looked up in SourceBoard.column_of
    labels: list[str]
    members: list[str]  # source member ids, or emails
    due_at: str | None
    created_at: str | None  # the time part of the task's id: known from the card's id alone, or None
    # Archived on the source: imported archived, in its list's column (an archived card of
    # a list that is no column: the first).
    archived: bool = False


@dataclasses.dataclass(slots=True)
class SourceComment:
    source_id: str
    card_id: str
    author: str  # a source member id
    author_name: str
    text: str
    at: str
    card_created: str | None  # the card's SourceCard.created_at


@dataclasses.dataclass(slots=True)
class SourceChecklist:
    """Items for a card's checklist: a whole Trello checklist, or one Planka task."""

    source_id: str
    card_id: str
    card_created: str | None  # the card's SourceCard.created_at
    # The checklist's place among its card's checklists, when the card has several (their
    # items are then kept together, in this order); None when it is the card's only one.
    rank: int | None
    items: list[tuple[str, str, bool]]  # (source id, text, done), in order


@dataclasses.dataclass(slots=True)
class Skipped:
    kind: str  # card, comment, checklist, label, ...
    source_id: str
    reason: str


type Item = SourceCard | SourceComment | SourceChecklist | Skipped


class ImportFileError(ValueError):
    """The file is not what its source says (not JSON, not a Trello export, no CSV header)."""


class CountingReader(io.RawIOBase):
    """A binary file that counts the bytes read from it: progress for parsers that read ahead."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._raw.read(len(buffer))
        buffer[: len(data)] = data
        self.count += len(data)
        return len(data)


def column_name(name: str, taken: set[str]) -> str:
    base = re.sub(r"[^a-z0-9_-]+", "-", name.strip().lower()).strip("-_")[:36] or "list"
    if not base[0].isalnum():
        base = "c" + base
    candidate, number = base, 2
    while candidate in taken:
        candidate, number = f"{base}-{number}", number + 1
    taken.add(candidate)
    return candidate


def storable_due(value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        moment = clock.parse_time(value.strip())
    except ValueError:
        return None
    text = clock.format_time(moment)
    return text if len(text) == len("2000-01-01T00:00:00.000000Z") else None


def clean_labels(names: list[str]) -> list[str]:
    labels = list(dict.fromkeys(name.strip()[:LABEL_MAX] for name in names if name and name.strip()))
    return labels[:LABELS_MAX]


class TrelloExport:
    """A Trello board export (Board menu > Print, export and share > Export as JSON)."""

    # Where the export keeps comments, and the checklists read in the same pass.
    _COMMENTS = "actions.item"
    _CHECKLISTS = "checklists.item"

    def __init__(self, path: str) -> None:
        self._path = path
        self.reader: CountingReader | None = None
        self._labels: dict[str, str] = {}
        # A card with several checklists -> their ids in the card's order, held from the
        # cards' pass for the checklists' (one entry per such card, not per checklist).
        self._checklists_of: dict[str, list[str]] = {}

    def _objects(self, wanted: set[str]) -> Iterator[tuple[str, Any]]:
        """(prefix, value) of each top-level scalar or array item under ``wanted``, built one
        at a time from the parser's events."""
        with open(self._path, "rb") as raw:
            self.reader = CountingReader(raw)
            builder: ijson.ObjectBuilder | None = None
            building = ""
            try:
                for prefix, event, value in ijson.parse(self.reader, use_float=True):
                    if builder is not None:
                        builder.event(event, value)
                        if prefix == building and event in ("end_map", "end_array"):
                            yield building, builder.value
                            builder = None
                    elif prefix in wanted:
                        if event in ("start_map", "start_array"):
                            builder, building = ijson.ObjectBuilder(), prefix
                            builder.event(event, value)
                        elif event not in ("map_key", "end_map", "end_array"):
                            yield prefix, value
            except ijson.JSONError as error:
                raise ImportFileError(f"the file is not valid JSON: {error}") from None

    def board(self, options: dict[str, Any]) -> SourceBoard:
        found: dict[str, Any] = {"lists": [], "members": {}}
        for prefix, value in self._objects({"id", "name", "lists.item", "labels.item", "members.item"}):
            if prefix in ("id", "name"):
                found[prefix] = value
            elif prefix == "lists.item" and isinstance(value, dict):
                found["lists"].append(value)
            elif prefix == "labels.item" and isinstance(value, dict):
                self._labels[str(value.get("id"))] = str(value.get("name") or value.get("color") or "")
            elif prefix == "members.item" and isinstance(value, dict):
                found["members"][str(value.get("id"))] = value
        if "id" not in found:
            raise ImportFileError("this is not a Trello board export: it has no board id")
        taken: set[str] = set()
        columns: list[str] = []
        column_of: dict[str, str] = {}
        for item in found["lists"]:
            if item.get("closed") or len(columns) >= MAX_COLUMNS:
                continue
            column = column_name(str(item.get("name") or ""), taken)
            columns.append(column)
            column_of[str(item.get("id"))] = column
        members = {
            member_id: str(member.get("fullName") or member.get("username") or member_id)
            for member_id, member in found["members"].items()
        }
        # Whom a source member is here: the export's email (enterprise exports have it), or
        # the job's mapping by username or id.
        emails: dict[str, str] = options.setdefault("_emails", {})
        mapping = options.get("members") or {}
        for member_id, member in found["members"].items():
            email = member.get("email") or mapping.get(member.get("username")) or mapping.get(member_id)
            if isinstance(email, str) and email:
                emails[member_id] = email.strip().lower()
        name = str(options.get("board_name") or found.get("name") or "Imported board")[:200]
        return SourceBoard(str(found["id"]), name, columns or ["todo"], column_of, members)

    def cards(self) -> Iterator[Item]:
        for _, card in self._objects({"cards.item"}):
            if not isinstance(card, dict) or not card.get("id"):
                continue
            card_id = str(card["id"])
            title = str(card.get("name") or "").strip()
            if not title:
                yield Skipped("card", card_id, "no title")
                continue
            description = str(card.get("desc") or "")
            links = [
                f"- [{attachment.get('name') or attachment.get('url')}]({attachment.get('url')})"
                for attachment in card.get("attachments") or []
                if isinstance(attachment, dict) and attachment.get("url")
            ]
            if links:
                description = f"{description}\n\nAttachments:\n" + "\n".join(links)
            if len(description) > DESCRIPTION_MAX:
                description = description[: DESCRIPTION_MAX - 20] + "\n\n(cut at import)"
            checklists = [str(checklist) for checklist in card.get("idChecklists") or []]
            if len(checklists) > 1:
                self._checklists_of[card_id] = checklists
            yield SourceCard(
                source_id=card_id,
                title=title[:TITLE_MAX],
                description=description,
                column_key=str(card.get("idList")),
                labels=clean_labels([self._labels.get(str(label), "") for label in card.get("idLabels") or []]),
                members=[str(member) for member in card.get("idMembers") or []],
                due_at=storable_due(card.get("due")),
                created_at=trello_created(card_id),
                archived=bool(card.get("closed")),
            )

    def comments(self) -> Iterator[Item]:
        for prefix, value in self._objects({self._COMMENTS, self._CHECKLISTS}):
            if not isinstance(value, dict):
                continue
            item = self._checklist(value) if prefix == self._CHECKLISTS else self._comment(value)
            if item is not None:
                yield item

    def _comment(self, value: dict[str, Any]) -> Item | None:
        if value.get("type") != "commentCard":
            return None  # Trello's log of other changes: history, not content
        data = value.get("data") or {}
        creator = value.get("memberCreator") or {}
        text = str(data.get("text") or "").strip()
        card_id = str((data.get("card") or {}).get("id") or "")
        if not text or not card_id:
            return Skipped("comment", str(value.get("id")), "empty, or on no card")
        return SourceComment(
            source_id=str(value.get("id")),
            card_id=card_id,
            author=str(value.get("idMemberCreator") or creator.get("id") or ""),
            author_name=str(creator.get("fullName") or creator.get("username") or "someone"),
            text=text[:10000],
            at=storable_due(value.get("date")) or clock.now(),
            card_created=trello_created(card_id),
        )

    def _checklist(self, value: dict[str, Any]) -> Item:
        checklist_id, card_id = str(value.get("id")), str(value.get("idCard") or "")
        if not card_id:
            return Skipped("checklist", checklist_id, "on no card")
        several = self._checklists_of.get(card_id)
        rank = several.index(checklist_id) if several and checklist_id in several else None
        name = str(value.get("name") or "") if several else None
        entries = [entry for entry in value.get("checkItems") or [] if isinstance(entry, dict)]
        # Trello keeps an item's place in ``pos``; the export's order is not always it.
        entries.sort(key=lambda entry: position(entry.get("pos")))
        items = [
            (str(entry.get("id")), checklist_text(entry.get("name"), name), entry.get("state") == "complete")
            for entry in entries
        ]
        return SourceChecklist(checklist_id, card_id, trello_created(card_id), rank, items)


class PlankaExport(TrelloExport):
    """A Planka board as its API gives it (``GET /api/boards/{id}``: ``item`` and
    ``included``), comments included when the export added them (``included.comments``).
    Cards name their labels and members in separate arrays, which are read first and held:
    two ids per link, never the cards themselves."""

    _COMMENTS = "included.comments.item"
    _CHECKLISTS = "included.tasks.item"  # a task is an item of its card's checklist

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self._links: dict[str, dict[str, list[str]]] = {}  # card id -> labels, members, attachments
        # A task list (Planka 2) -> its card, its name when the card has several, and its rank.
        self._task_lists: dict[str, tuple[str, str | None, int | None]] = {}
        # Planka 2 archives a card by moving it to the board's archive list (its list before
        # in ``prevListId``); a closed list's cards are done, not archived.
        self._archive_lists: set[str] = set()

    def _link(self, card_id: Any, kind: str, value: str) -> None:
        self._links.setdefault(str(card_id), {}).setdefault(kind, []).append(value)

    def board(self, options: dict[str, Any]) -> SourceBoard:
        wanted = {f"included.{name}.item" for name in ("users", "labels", "lists", "cardLabels", "cardMemberships")}
        found: dict[str, Any] = {"lists": [], "users": {}}
        labels: dict[str, str] = {}
        links: list[tuple[str, dict[str, Any]]] = []
        task_lists: list[dict[str, Any]] = []
        for prefix, value in self._objects({"item", "included.attachments.item", "included.taskLists.item", *wanted}):
            if not isinstance(value, dict):
                continue
            kind = prefix.removeprefix("included.").removesuffix(".item")
            if kind == "item":
                found["board"] = value
            elif kind == "lists":
                found["lists"].append(value)
            elif kind == "labels":
                labels[str(value.get("id"))] = str(value.get("name") or value.get("color") or "")
            elif kind == "users":
                found["users"][str(value.get("id"))] = value
            elif kind == "taskLists":
                task_lists.append({key: value.get(key) for key in ("id", "cardId", "name", "position")})
            elif kind == "attachments" and value.get("url"):
                self._link(
                    value.get("cardId"), "attachments", f"- [{value.get('name') or value['url']}]({value['url']})"
                )
            else:
                links.append((kind, value))
        board = found.get("board")
        if not isinstance(board, dict) or "id" not in board:
            raise ImportFileError("this is not a Planka board export: it has no item (the board)")
        self._hold_task_lists(task_lists)
        for kind, link in links:
            if kind == "cardLabels":
                self._link(link.get("cardId"), "labels", labels.get(str(link.get("labelId")), ""))
            else:
                self._link(link.get("cardId"), "members", str(link.get("userId")))
        taken: set[str] = set()
        columns: list[str] = []
        column_of: dict[str, str] = {}
        for item in sorted(found["lists"], key=lambda entry: entry.get("position") or 0):
            if item.get("type") == "archive":
                self._archive_lists.add(str(item.get("id")))
            if item.get("type") in ("archive", "trash") or item.get("isClosed") or len(columns) >= MAX_COLUMNS:
                continue
            column = column_name(str(item.get("name") or ""), taken)
            columns.append(column)
            column_of[str(item.get("id"))] = column
        emails: dict[str, str] = options.setdefault("_emails", {})
        for user_id, user in found["users"].items():
            if isinstance(user.get("email"), str) and user["email"]:
                emails[user_id] = user["email"].strip().lower()
        members = {
            user_id: str(user.get("name") or user.get("username") or user_id)
            for user_id, user in found["users"].items()
        }
        name = str(options.get("board_name") or board.get("name") or "Imported board")[:200]
        return SourceBoard(f"planka:{board['id']}", name, columns or ["todo"], column_of, members)

    def _hold_task_lists(self, task_lists: list[dict[str, Any]]) -> None:
        by_card: dict[str, list[dict[str, Any]]] = {}
        for task_list in task_lists:
            by_card.setdefault(str(task_list.get("cardId")), []).append(task_list)
        for card_id, lists in by_card.items():
            lists.sort(key=lambda entry: position(entry.get("position")))
            several = len(lists) > 1
            for rank, task_list in enumerate(lists):
                name = str(task_list.get("name") or "") if several else None
                self._task_lists[str(task_list.get("id"))] = (card_id, name, rank if several else None)

    def _checklist(self, value: dict[str, Any]) -> Item:
        """One Planka task: an item of its card's checklist (Planka 1 names the card, Planka 2
        its task list). Planka's API lists tasks by position: their order is kept."""
        task_id = str(value.get("id"))
        card_id, name, rank = self._task_lists.get(
            str(value.get("taskListId")), (str(value.get("cardId") or ""), None, None)
        )
        if not card_id:
            return Skipped("checklist item", task_id, "on no card")
        item = (task_id, checklist_text(value.get("name"), name), bool(value.get("isCompleted")))
        return SourceChecklist(task_id, card_id, None, rank, [item])

    def cards(self) -> Iterator[Item]:
        for _, card in self._objects({"included.cards.item"}):
            if not isinstance(card, dict) or not card.get("id"):
                continue
            card_id = str(card["id"])
            links = self._links.get(card_id, {})
            title = str(card.get("name") or "").strip()
            if not title:
                yield Skipped("card", card_id, "no title")
                continue
            archived = str(card.get("listId")) in self._archive_lists
            description = str(card.get("description") or "")
            if links.get("attachments"):
                description = f"{description}\n\nAttachments:\n" + "\n".join(links["attachments"])
            yield SourceCard(
                source_id=card_id,
                title=title[:TITLE_MAX],
                description=description[:DESCRIPTION_MAX],
                column_key=str((card.get("prevListId") or "") if archived else card.get("listId")),
                labels=clean_labels(links.get("labels", [])),
                members=links.get("members", []),
                due_at=storable_due(card.get("dueDate")),
                created_at=None,
                archived=archived,
            )

    def _comment(self, value: dict[str, Any]) -> Item | None:
        text = str(value.get("text") or "").strip()
        if not text or not value.get("cardId"):
            return Skipped("comment", str(value.get("id")), "empty, or on no card")
        author = str(value.get("userId") or "")
        return SourceComment(
            source_id=str(value.get("id")),
            card_id=str(value["cardId"]),
            author=author,
            author_name=author,
            text=text[:10000],
            at=storable_due(value.get("createdAt")) or clock.now(),
            card_created=None,
        )


def position(value: Any) -> float:
    """A source's place number (Trello's ``pos``, Planka's ``position``); 0 if it has none."""
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0


def checklist_text(name: Any, prefix: str | None) -> str:
    """An item's text as a checklist item holds it: one line, within MAX_ITEM_TEXT, after
    its checklist's name when its card has several checklists ("" when there is none)."""
    text = " ".join(str(name or "").split())
    if text and prefix:
        text = f"{' '.join(prefix.split()) or 'Checklist'}: {text}"
    return text[:MAX_ITEM_TEXT]


def trello_created(card_id: str) -> str | None:
    """A Trello id starts with its creation time (8 hex digits of Unix seconds)."""
    try:
        seconds = int(card_id[:8], 16)
    except ValueError:
        return None
    return clock.format_time(datetime.fromtimestamp(seconds, UTC))


class CsvFile:
    """A CSV file (UTF-8, with or without a BOM; any quoting the csv module reads) with a
    mapping from task fields to its column names: ``options["columns"]``."""

    def __init__(self, path: str) -> None:
        self._path = path
        self.reader: CountingReader | None = None
        self._columns: dict[str, str] = {}

    def _rows(self) -> Iterator[tuple[int, dict[str, str]]]:
        with open(self._path, "rb") as raw:
            self.reader = CountingReader(raw)
            text = io.TextIOWrapper(io.BufferedReader(self.reader), encoding="utf-8-sig", errors="replace", newline="")
            try:
                for number, row in enumerate(csv.DictReader(text), start=2):  # line 1 is the header
                    yield number, {key: (value or "") for key, value in row.items() if isinstance(key, str)}
            except csv.Error as error:
                raise ImportFileError(f"the CSV file cannot be read: {error}") from None

    def header(self) -> list[str]:
        with open(self._path, encoding="utf-8-sig", errors="replace", newline="") as text:
            return next(csv.reader(text), [])

    def board(self, options: dict[str, Any]) -> SourceBoard:
        self._columns = {field: name for field, name in (options.get("columns") or {}).items() if field in CSV_FIELDS}
        header = self.header()
        missing = [name for name in self._columns.values() if name not in header]
        if "title" not in self._columns or missing:
            raise ImportFileError(
                f"the mapping needs a title column and columns of the file's header {header}; not found: {missing}"
            )
        taken: set[str] = set()
        columns: list[str] = []
        column_of: dict[str, str] = {}
        status = self._columns.get("status")
        if status:
            for _, row in self._rows():
                value = row.get(status, "").strip()
                if value and value not in column_of and len(columns) < MAX_COLUMNS:
                    column_of[value] = column_name(value, taken)
                    columns.append(column_of[value])
        if not columns:
            columns = ["todo", "in_progress", "done"]
        column_of[""] = columns[0]
        name = str(options.get("board_name") or "Imported from CSV")[:200]
        return SourceBoard(f"csv:{name}", name, columns, column_of, {})

    def cards(self) -> Iterator[Item]:
        get = self._columns.get
        for number, row in self._rows():
            source_id = (row.get(get("id") or "", "").strip() or f"row-{number}")[:200]
            title = row.get(get("title") or "", "").strip()
            if not title:
                yield Skipped("row", source_id, "no title")
                continue
            status = row.get(get("status") or "", "").strip()
            due_text = row.get(get("due_at") or "", "").strip()
            due = storable_due(due_text)
            if due_text and due is None:
                yield Skipped("due_at", source_id, f"not a date: {due_text[:40]!r} (imported without one)")
            yield SourceCard(
                source_id=source_id,
                title=title[:TITLE_MAX],
                description=row.get(get("description") or "", "")[:DESCRIPTION_MAX],
                column_key=status,
                labels=clean_labels(re.split(r"[,;]", row.get(get("labels") or "", ""))),
                members=[
                    email.strip().lower()
                    for email in re.split(r"[,;]", row.get(get("assignee") or "", ""))
                    if email.strip()
                ],
                due_at=due,
                created_at=None,
            )

    def comments(self) -> Iterator[Item]:
        return iter(())
