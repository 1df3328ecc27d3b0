"""Whether anyone may create an account. The setting ``registration_open=false`` closes it
for good; otherwise the administrator's switch decides (open until switched). Invitations
and single sign-on create accounts even while it is closed: they pass
``allow_when_closed`` to ``AuthService.register``."""

from __future__ import annotations

from app.settings import Settings
from app.store.base import InstanceStore

REGISTRATION_SWITCH = "registration_open"


async def registration_open(settings: Settings, store: InstanceStore) -> bool:
    if not settings.registration_open:
        return False
    return await store.get_instance_value(REGISTRATION_SWITCH) != "false"


async def switch_registration(store: InstanceStore, open_: bool) -> None:
    await store.set_instance_value(REGISTRATION_SWITCH, "true" if open_ else "false")
