"""The form runner: asks a form's steps, parses answers with their validators and saves each at once."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Literal

from babel.numbers import format_decimal

from bot.conversation import poster, reading
from bot.conversation.product_photos import (
    active_photos,
    ask_which_photo,
    photo_buttons,
    photo_count,
    replace_flagged_photos,
    store_photos,
)
from bot.conversation.turn import Turn
from bot.domain.messages import Choice, Inbound
from bot.domain.validators import Unusual
from bot.flows.base import Form, Step
from bot.flows.business import BUSINESS
from bot.flows.product import PRODUCT
from bot.flows.words import is_done_word
from bot.words import present
from storage.models import Business, Product

FORMS = {f.name: f for f in (BUSINESS, PRODUCT)}
Record = Business | Product
Outcome = Literal["asked", "done"]
#: Called after an answer is saved, before the next question: True when it asked something itself (the
#: owner's side passes one: a note on an unfit category, an offer to copy the last product's answers).
Saved = Callable[[Turn, Record, Step], Awaitable[bool]]


async def answers_of(turn: Turn, form: Form, record: Record) -> dict[str, Any]:
    """The record's answers keyed by field; for a product, `photos` is the photo count (None for none)."""
    answers = {s.field: getattr(record, s.field) for s in form.steps if s.kind != "photos"}
    if isinstance(record, Product):
        answers["photos"] = (await photo_count(turn, record.id)) or None  # type: ignore[arg-type]
    return answers


def first_open_step(form: Form, answers: dict[str, Any], skipped: list[str],
                    after: str | None = None) -> Step | None:
    """The first unanswered step (after `after` when given, wrapping to the start)."""
    open_steps = form.unanswered(answers, skipped)
    if after is not None:
        order = [s.field for s in form.steps]
        later = [s for s in open_steps if order.index(s.field) > order.index(after)]
        if later:
            return later[0]
    return open_steps[0] if open_steps else None


async def ask(turn: Turn, form: Form, record: Record, step: Step, error: str | None = None,
              error_params: dict[str, Any] | None = None, **extra: Any) -> None:
    """Puts the conversation on `step` and asks it (after `error`, a message key, if any)."""
    answers = await answers_of(turn, form, record)
    labels = turn.labels()
    counted = form.counted(answers)
    position = form.position(step.field, answers)
    current = answers.get(step.field)
    choices: list[Choice] = []
    if step.kind == "choice" and step.options:
        choices = [Choice(f"opt:{k}", labels["options"][step.field][k]) for k in step.options]
    if step.kind == "photos":
        choices = photo_buttons(turn, current or 0)
    if step.kind == "region" and not extra.get("candidates") and (hint := await poster.region_hint(turn, record)):
        extra = {**extra, "candidates": [hint], "hinted": hint.label}  # came by a poster: "Kabupaten X, benar?"
    if step.kind == "region" and extra.get("candidates"):
        choices = [*(Choice(f"region:{r.code}", r.label) for r in extra["candidates"]),
                   turn.button("region:none", "none_of_these")]
    if step.kind == "region":
        turn.update_data(region_choice=bool(extra.get("candidates")))
    if step.is_optional(answers) and step.field in turn.data.get("skipped_before", []) and not choices:
        choices = [turn.button("step:skip", "skip")]  # skipped last time: skipping is one tap
    turn.conversation.flow, turn.conversation.step = form.name, step.field
    question = turn.text(f"ask/{form.name}/{step.field}", **extra)
    turn.say(
        "ask/_frame",
        choices=choices,
        request_contact=turn.label("buttons", "share_phone") if step.kind == "phone" else "",
        prefix=turn.text(f"errors/{error}", **(error_params or {})) if error else "",
        question=question,
        position=position,
        total=len(counted),
        optional=step.is_optional(answers),
        current=None if current is None else present.shown(labels, turn.locale, step, current),
        is_choice=bool(choices) and step.kind != "photos",
    )


async def receive(turn: Turn, form: Form, record: Record, step: Step, inbound: Inbound,
                  saved: Saved | None = None) -> Outcome:
    """Applies one answer to `step`: saves it and asks the next open step, or re-asks with a correction
    (`saved`, when given, runs after the answer is saved and may ask something else instead)."""
    if step.kind == "photos":
        return await _receive_photos(turn, record, step, inbound)
    if inbound.kind == "choice" and inbound.text == "step:skip":
        return await skip(turn, form, record, step)
    if (confirmed := await _receive_confirmation(turn, form, record, step, inbound)) is not None:
        return confirmed
    return await _receive_answer(turn, form, record, step, inbound, saved)


async def _receive_answer(turn: Turn, form: Form, record: Record, step: Step, inbound: Inbound,
                          saved: Saved | None) -> Outcome:
    """Parses and checks the answer: saved and on to the next step, or the same question with a correction."""
    try:
        value = reading.parse(step, inbound)
        if step.check is not None and not isinstance(value, list):
            step.check(value, await answers_of(turn, form, record))
    except Unusual as exc:
        _ask_to_confirm(turn, step, exc)
        return "asked"
    except ValueError as exc:
        if reading.says_none(step, inbound, await answers_of(turn, form, record)):
            return await skip(turn, form, record, step)  # "tidak ada", "belum punya" to an optional question
        key = str(exc.args[0]) if exc.args else "invalid"
        await ask(turn, form, record, step, error=key, error_params=getattr(exc, "params", None))
        return "asked"
    if isinstance(value, list):  # several regions matched: ask which one
        await ask(turn, form, record, step, error=None, candidates=value)
        return "asked"
    save(record, step, value, turn)
    _note_reading(turn, form, record, step, inbound)
    if saved is not None and await saved(turn, record, step):
        return "asked"
    return await advance(turn, form, record, step)


async def _receive_confirmation(turn: Turn, form: Form, record: Record, step: Step,
                                inbound: Inbound) -> Outcome | None:
    """The yes/no to an unusual answer kept aside: saved, or asked again; None when it is neither (an answer)."""
    pending = turn.data.get("confirm")
    if not pending or pending.get("field") != step.field:
        return None
    turn.update_data(confirm=None)
    confirmed = reading.confirmation(inbound)
    if confirmed is True:
        save(record, step, pending["value"], turn)
        return await advance(turn, form, record, step)
    if confirmed is False:
        await ask(turn, form, record, step)
        return "asked"
    return None


def _note_reading(turn: Turn, form: Form, record: Record, step: Step, inbound: Inbound) -> None:
    """Says once, in the next message, how a typed answer was read when it reads differently ("25rb" ->
    "Rp25.000", "lampung utara" -> "Kabupaten Lampung Utara"). Not for a phone number (its own format is no
    news) nor an answer that fills several fields ("250 gr 20x15x5 cm": the next question shows the rest)."""
    if inbound.kind != "text" or step.kind == "phone" or any(s.part_of == step.field for s in form.steps):
        return
    shown = present.shown(turn.labels(), turn.locale, step, getattr(record, step.field))
    if _plain(shown) != _plain(inbound.text):
        turn.note("noted", field=turn.labels()["fields"][step.field], value=shown)


def _plain(text: str) -> str:
    """Letters and digits only, lower case, without a leading "Rp": how two writings of one answer compare."""
    plain = "".join(c for c in text.casefold() if c.isalnum())
    return plain.removeprefix("rp")


def _ask_to_confirm(turn: Turn, step: Step, exc: Unusual) -> None:
    """An unusual answer (Rp50, more bought at once than in stock) is kept aside until the owner confirms."""
    turn.update_data(confirm={"field": step.field, "value": exc.value})
    shown = present.shown(turn.labels(), turn.locale, step, exc.value)
    params = {k: format_decimal(v, locale=turn.locale) if isinstance(v, int) else v for k, v in exc.params.items()}
    turn.say(f"confirm/{exc.args[0]}", value=shown,
             choices=[turn.button("confirm:yes", "confirm_yes"), turn.button("confirm:no", "confirm_no")],
             **params)


def save(record: Record, step: Step, value: Any, turn: Turn) -> None:
    """Writes one answer into the record (skipping is saving None and remembering it was skipped)."""
    setattr(record, step.field, value)
    skipped = [f for f in (record.skipped or []) if f != step.field]
    record.skipped = skipped + [step.field] if value is None else skipped
    if isinstance(record, Product):
        record.updated_at = turn.now


async def skip(turn: Turn, form: Form, record: Record, step: Step) -> Outcome:
    answers = await answers_of(turn, form, record)
    if step.field in turn.data.get("flagged", []):
        await ask(turn, form, record, step, error="flagged_not_optional")
        return "asked"
    if not step.is_optional(answers):
        await ask(turn, form, record, step, error="not_optional")
        return "asked"
    save(record, step, None, turn)
    if step.skip_note:
        turn.say(step.skip_note)
    return await advance(turn, form, record, step)


async def back(turn: Turn, form: Form, record: Record, step: Step) -> Outcome:
    """Asks the step before `step`; at the first step there is nothing before, so it is asked again."""
    if step.kind == "region" and turn.data.get("region_choice"):
        await ask(turn, form, record, step)  # back from the list of matches: the region question again
        return "asked"
    previous = form.before(step.field, await answers_of(turn, form, record))
    await ask(turn, form, record, previous or step, error=None if previous else "first_step")
    return "asked"


async def advance(turn: Turn, form: Form, record: Record, step: Step) -> Outcome:
    """Asks the next step: the revision queue first, then any open step; "done" when nothing is open."""
    answers = await answers_of(turn, form, record)
    data = turn.data
    skipped = list(record.skipped or [])
    nxt: Step | None = None
    if data.get("mode") == "revision":
        queue = [f for f in data.get("queue", []) if f != step.field]
        turn.update_data(queue=queue)
        queued = [form.step(f) for f in queue]
        nxt = next((s for s in queued if s is not None and s.applies(answers)), None)
        nxt = nxt or first_open_step(form, answers, skipped)
    elif data.get("mode") == "edit":
        nxt = first_open_step(form, answers, skipped)
    else:
        nxt = first_open_step(form, answers, skipped, after=step.field)
    if nxt is None:
        return "done"
    await ask(turn, form, record, nxt)
    return "asked"


async def _receive_photos(turn: Turn, record: Record, step: Step, inbound: Inbound) -> Outcome:
    assert isinstance(record, Product) and record.id is not None
    if inbound.kind == "photos":
        await replace_flagged_photos(turn, record)
        if await store_photos(turn, record, inbound):
            return await advance(turn, PRODUCT, record, step)  # photos in: on to the summary, no "done" needed
        return "asked"
    choice = inbound.text if inbound.kind == "choice" else ""
    if choice.startswith("photos:del:"):
        return await _remove_photo(turn, record, step, choice.removeprefix("photos:del:"))
    if inbound.kind == "text" and is_done_word(inbound.text):
        choice = "photos:done"
    if (button := PHOTO_BUTTONS.get(choice)) is not None:
        return await button(turn, record, step)
    await ask(turn, PRODUCT, record, step, error="photos_expected")
    return "asked"


async def _remove_photo(turn: Turn, product: Product, step: Step, photo_id: str) -> Outcome:
    photo = next((p for p in await active_photos(turn, product.id) if str(p.id) == photo_id),  # type: ignore[arg-type]
                 None)
    if photo is not None:
        photo.removed_at = turn.now
        product.updated_at = turn.now
        await turn.session.flush()
    await ask(turn, PRODUCT, product, step, error=None if photo else "stale_button")
    return "asked"


async def _clear_photos(turn: Turn, product: Product, step: Step) -> Outcome:
    for photo in await active_photos(turn, product.id):  # type: ignore[arg-type]
        photo.removed_at = turn.now
    await turn.session.flush()
    await ask(turn, PRODUCT, product, step)
    return "asked"


async def _photos_done(turn: Turn, product: Product, step: Step) -> Outcome:
    if await photo_count(turn, product.id) == 0:  # type: ignore[arg-type]
        await ask(turn, PRODUCT, product, step, error="photos_needed")
        return "asked"
    return await advance(turn, PRODUCT, product, step)


async def _pick_photo(turn: Turn, product: Product, step: Step) -> Outcome:
    await ask_which_photo(turn, product)
    return "asked"


PHOTO_BUTTONS: dict[str, Callable[[Turn, Product, Step], Awaitable[Outcome]]] = {
    "photos:remove": _pick_photo,
    "photos:clear": _clear_photos,
    "photos:done": _photos_done,
}
