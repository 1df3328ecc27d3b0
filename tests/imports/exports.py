"""Real-shaped import files the tests build: Trello board exports (every field kind Trello
writes that an import reads, and the ones it skips) and CSV files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

BOARD_ID = "5f1a2b3c4d5e6f7a8b9c0d1e"


def trello_id(seconds: int, number: int) -> str:
    """Trello ids start with their creation time in hex."""
    return f"{seconds:08x}{number:016x}"


def rich_export(bob_email: str, carol_username: str = "carol") -> dict[str, Any]:
    """One of each: open and archived lists, named and colour-only labels, a member with an
    email, one mapped by username, one unknown; a plain card, a card with everything, an
    archived card, a card in an archived list, a card with no title; checklists; comments
    by a known and an unknown member; other actions."""
    t = 1_600_000_000
    lists = [
        {"id": trello_id(t, 1), "name": "To Do", "closed": False, "pos": 1},
        {"id": trello_id(t, 2), "name": "Doing 🚧", "closed": False, "pos": 2},
        {"id": trello_id(t, 3), "name": "Old stuff", "closed": True, "pos": 3},
        {"id": trello_id(t, 4), "name": "Done", "closed": False, "pos": 4},
    ]
    labels = [
        {"id": trello_id(t, 10), "name": "bug", "color": "red"},
        {"id": trello_id(t, 11), "name": "", "color": "green"},
    ]
    members = [
        {"id": trello_id(t, 20), "username": "bob", "fullName": "Bob Builder", "email": bob_email},
        {"id": trello_id(t, 21), "username": carol_username, "fullName": "Carol C"},
        {"id": trello_id(t, 22), "username": "dave", "fullName": "Dave Unknown"},
    ]
    cards = [
        {"id": trello_id(t + 100, 30), "name": "Plain card", "desc": "", "idList": lists[0]["id"], "closed": False},
        {
            "id": trello_id(t + 200, 31),
            "name": "Everything card",
            "desc": "Some **markdown**\nwith lines",
            "idList": lists[1]["id"],
            "closed": False,
            "idLabels": [labels[0]["id"], labels[1]["id"]],
            "idMembers": [members[0]["id"], members[1]["id"], members[2]["id"]],
            "due": "2027-01-15T12:00:00.000Z",
            "idChecklists": [trello_id(t, 50), trello_id(t, 51)],
            "attachments": [{"id": trello_id(t, 60), "name": "Spec", "url": "https://example.test/spec.pdf"}],
            "badges": {"comments": 2},
        },
        {"id": trello_id(t + 300, 32), "name": "Archived card", "idList": lists[0]["id"], "closed": True},
        {"id": trello_id(t + 400, 33), "name": "In an archived list", "idList": lists[2]["id"], "closed": False},
        {"id": trello_id(t + 500, 34), "name": "  ", "idList": lists[0]["id"], "closed": False},
        {
            "id": trello_id(t + 600, 35),
            "name": "Finished",
            "idList": lists[3]["id"],
            "closed": False,
            "idChecklists": [trello_id(t, 53)],
        },
    ]

    def item(number: int, name: str, pos: int, complete: bool = False) -> dict[str, Any]:
        state = "complete" if complete else "incomplete"
        return {"id": trello_id(t, 500 + number), "name": name, "pos": pos, "state": state}

    # Two checklists on one card, written in the other order than the card's, with their
    # items out of ``pos`` order; one on an archived card; one longer than a checklist holds.
    checklists = [
        {
            "id": trello_id(t, 51),
            "idCard": cards[1]["id"],
            "name": "Review",
            "pos": 32768,
            "checkItems": [item(3, "Read it\tthrough", 16384, complete=True), item(4, "", 32768)],
        },
        {
            "id": trello_id(t, 50),
            "idCard": cards[1]["id"],
            "name": "Steps",
            "pos": 16384,
            "checkItems": [item(2, "two", 32768), item(1, "one", 16384, complete=True)],
        },
        {"id": trello_id(t, 52), "idCard": cards[2]["id"], "name": "Gone", "checkItems": [item(5, "lost", 1)]},
        {
            "id": trello_id(t, 53),
            "idCard": cards[5]["id"],
            "name": "Long",
            "checkItems": [item(100 + n, f"step {n}", n, complete=n % 2 == 0) for n in range(102)],
        },
    ]
    actions = [
        {
            "id": trello_id(t + 700, 70),
            "type": "commentCard",
            "date": "2020-09-14T10:00:00.000Z",
            "idMemberCreator": members[0]["id"],
            "memberCreator": {"id": members[0]["id"], "fullName": "Bob Builder", "username": "bob"},
            "data": {"text": "Looks good to me", "card": {"id": cards[1]["id"], "name": "Everything card"}},
        },
        {
            "id": trello_id(t + 800, 71),
            "type": "commentCard",
            "date": "2020-09-14T11:00:00.000Z",
            "idMemberCreator": members[2]["id"],
            "memberCreator": {"id": members[2]["id"], "fullName": "Dave Unknown", "username": "dave"},
            "data": {"text": "Who am I?", "card": {"id": cards[1]["id"]}},
        },
        {
            "id": trello_id(t + 900, 72),
            "type": "commentCard",
            "date": "2020-09-14T12:00:00.000Z",
            "idMemberCreator": members[0]["id"],
            "data": {"text": "On an archived card", "card": {"id": cards[2]["id"]}},
        },
        {"id": trello_id(t + 950, 73), "type": "updateCard", "date": "2020-09-15T12:00:00.000Z", "data": {}},
    ]
    # Trello writes the board's arrays in this order: cards before lists is what streaming must cope with.
    return {
        "id": BOARD_ID,
        "name": "Product launch",
        "desc": "",
        "closed": False,
        "actions": actions,
        "cards": cards,
        "labels": labels,
        "lists": lists,
        "members": members,
        "checklists": checklists,
        "prefs": {"background": "blue"},
    }


def write_large_export(path: Path, target_bytes: int, description_bytes: int = 4000) -> int:
    """A Trello export of about ``target_bytes``, written card by card (never whole in
    memory); the number of cards."""
    t = 1_600_000_000
    lists = [{"id": trello_id(t, n), "name": f"List {n}", "closed": False} for n in range(1, 5)]
    filler = ("Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * (description_bytes // 56 + 1))[
        :description_bytes
    ]
    count = 0
    with open(path, "w", encoding="utf-8") as out:
        out.write(f'{{"id": "{BOARD_ID}", "name": "Big board", "cards": [')
        while out.tell() < target_bytes:
            card = {
                "id": trello_id(t + count, 1000 + count),
                "name": f"Card {count}",
                "desc": filler,
                "idList": lists[count % 4]["id"],
                "closed": False,
                "idLabels": [],
            }
            out.write(("," if count else "") + json.dumps(card))
            count += 1
        out.write('], "lists": ' + json.dumps(lists) + ', "labels": [], "members": [], "actions": []}')
    return count


def planka_export(bob_email: str) -> dict[str, Any]:
    """A Planka board as ``GET /api/boards/{id}`` returns it, with the comments an export
    script adds: lists (Planka 2's archive list, holding an archived card, and its trash), labels, users with emails, cards, their labels and
    members in separate arrays, checklist items (tasks: Planka 1 names their card, Planka 2
    their task list, of which a card may have several), attachments."""
    return {
        "item": {"id": "1357", "name": "Planka board", "projectId": "1"},
        "included": {
            "users": [
                {"id": "11", "email": bob_email, "name": "Bob", "username": "bob"},
                {"id": "12", "email": "ghost@example.test", "name": "Ghost", "username": "ghost"},
            ],
            "boardMemberships": [{"id": "21", "boardId": "1357", "userId": "11", "role": "editor"}],
            "labels": [{"id": "31", "name": "urgent", "color": "berry-red"}],
            "lists": [
                {"id": "42", "name": "Doing", "position": 131072, "type": "active"},
                {"id": "41", "name": "Backlog", "position": 65536, "type": "active"},
                {"id": "43", "name": "Archive", "position": 1, "type": "archive"},
                {"id": "44", "name": "Trash", "position": 2, "type": "trash"},
            ],
            "cards": [
                {
                    "id": "51",
                    "listId": "41",
                    "name": "Write docs",
                    "description": "The **guide**",
                    "dueDate": "2027-05-01T09:00:00.000Z",
                    "createdAt": "2024-01-02T03:04:05.000Z",
                },
                {"id": "52", "listId": "42", "name": "Ship", "description": None, "dueDate": None},
                {"id": "53", "listId": "43", "prevListId": "42", "name": "Old", "description": ""},
                {"id": "54", "listId": "44", "name": "Thrown away", "description": ""},
            ],
            "cardMemberships": [
                {"id": "61", "cardId": "51", "userId": "11"},
                {"id": "62", "cardId": "52", "userId": "12"},
            ],
            "cardLabels": [{"id": "71", "cardId": "51", "labelId": "31"}],
            "taskLists": [
                {"id": "102", "cardId": "52", "name": "After", "position": 2},
                {"id": "101", "cardId": "52", "name": "Before", "position": 1},
            ],
            "tasks": [
                {"id": "81", "cardId": "51", "name": "Outline", "isCompleted": True, "position": 1},
                {"id": "82", "cardId": "51", "name": "Draft", "isCompleted": False, "position": 2},
                {"id": "83", "taskListId": "102", "name": "Announce", "isCompleted": False, "position": 1},
                {"id": "84", "taskListId": "101", "name": "Build", "isCompleted": True, "position": 1},
                {"id": "85", "taskListId": "101", "name": "Test", "isCompleted": False, "position": 2},
                {"id": "86", "cardId": "53", "name": "On an archived card", "isCompleted": False},
                {"id": "87", "cardId": "54", "name": "On a trashed card", "isCompleted": False},
            ],
            "attachments": [{"id": "91", "cardId": "52", "name": "Build", "url": "https://example.test/build.zip"}],
            "comments": [
                {"id": "95", "cardId": "51", "userId": "11", "text": "Started", "createdAt": "2024-01-03T10:00:00.000Z"}
            ],
        },
    }
