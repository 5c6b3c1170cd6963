"""The admin pages under /dinas/admin/: officers and invitations, targets, unrouted submissions, health, audit.

Only officers with the admin role see them (403 for others); each acts only within the admin's area through
bot/review/admin.py and bot/review/invites.py, and each action is recorded (AdminAction).
"""

from __future__ import annotations

from starlette.routing import BaseRoute

from bot.dinas.admin import audit, health, officers, targets, unrouted
from bot.dinas.console import Console


def routes(console: Console) -> list[BaseRoute]:
    return [*officers.routes(console), *targets.routes(console), *unrouted.routes(console),
            *health.routes(console), *audit.routes(console)]
