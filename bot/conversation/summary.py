"""The product's summary: every answer, then submit, edit or keep as a draft (where a filled form ends)."""

from __future__ import annotations

from bot.conversation import forms
from bot.conversation.records import current_product
from bot.conversation.turn import Turn
from bot.flows.product import PRODUCT
from bot.words import present


async def show_summary(turn: Turn, error: str | None = None) -> None:
    product = await current_product(turn)
    answers = await forms.answers_of(turn, PRODUCT, product)
    lines = present.rows(turn.labels(), turn.locale, PRODUCT, answers, product.skipped)
    turn.set_state("summary")
    turn.say("summary", prefix=turn.text(f"errors/{error}") if error else "", rows=lines, product=product,
             choices=[turn.button(f"submit:{product.id}", "submit"), turn.button(f"edit:{product.id}", "edit"),
                      turn.button("menu:main", "save_draft")])
