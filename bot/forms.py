"""The form runner: asks a form's steps, parses answers with their validators and saves each at once."""

from __future__ import annotations

from typing import Any, Literal

from babel.numbers import format_decimal
from sqlmodel import func, select

from bot import album, present, reading
from bot.flows.base import Form, Step
from bot.flows.business import BUSINESS
from bot.flows.product import MAX_PHOTOS, PRODUCT
from bot.flows.words import is_done_word
from bot.media import store_photo
from bot.messages import Choice, Inbound
from bot.turn import Turn
from bot.validators import Unusual
from storage.models import Business, Product, ProductPhoto

FORMS = {f.name: f for f in (BUSINESS, PRODUCT)}
Record = Business | Product
Outcome = Literal["asked", "done"]


async def active_photos(turn: Turn, product_id: int) -> list[ProductPhoto]:
    query = (select(ProductPhoto)
             .where(ProductPhoto.product_id == product_id, ProductPhoto.removed_at.is_(None))  # type: ignore[union-attr]
             .order_by(ProductPhoto.id))  # type: ignore[arg-type]
    return list((await turn.session.exec(query)).all())


async def photo_count(turn: Turn, product_id: int) -> int:
    query = select(func.count()).select_from(ProductPhoto).where(
        ProductPhoto.product_id == product_id, ProductPhoto.removed_at.is_(None))  # type: ignore[union-attr]
    return int((await turn.session.exec(query)).one())


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
    position = next((i for i, s in enumerate(counted) if s.field == step.field), 0) + 1
    current = answers.get(step.field)
    choices: list[Choice] = []
    if step.kind == "choice" and step.options:
        choices = [Choice(f"opt:{k}", labels["options"][step.field][k]) for k in step.options]
    if step.kind == "photos":
        choices = photo_buttons(turn, current or 0)
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


async def receive(turn: Turn, form: Form, record: Record, step: Step, inbound: Inbound) -> Outcome:
    """Applies one answer to `step`: saves it and asks the next open step, or re-asks with a correction."""
    if step.kind == "photos":
        return await _receive_photos(turn, record, step, inbound)
    if inbound.kind == "choice" and inbound.text == "step:skip":
        return await skip(turn, form, record, step)
    pending = turn.data.get("confirm")
    if pending and pending.get("field") == step.field:
        turn.update_data(confirm=None)
        confirmed = reading.confirmation(inbound)
        if confirmed is True:
            save(record, step, pending["value"], turn)
            return await advance(turn, form, record, step)
        if confirmed is False:
            await ask(turn, form, record, step)
            return "asked"
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
    if step.field == "kategori" and isinstance(record, Product):
        from bot import listing, repeat  # both build on this module

        await listing.note_unfit_category(turn, record)
        if await repeat.offer_same(turn, record):
            return "asked"
    return await advance(turn, form, record, step)


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
        await _replace_flagged_photos(turn, record)
        if await _store_photos(turn, record, inbound):
            return await advance(turn, PRODUCT, record, step)  # photos in: on to the summary, no "done" needed
        return "asked"
    if inbound.kind == "choice" and inbound.text == "photos:remove":
        return await _ask_which_photo(turn, record)
    if inbound.kind == "choice" and inbound.text.startswith("photos:del:"):
        photo = next((p for p in await active_photos(turn, record.id)
                      if str(p.id) == inbound.text.removeprefix("photos:del:")), None)
        if photo is not None:
            photo.removed_at = turn.now
            record.updated_at = turn.now
            await turn.session.flush()
        await ask(turn, PRODUCT, record, step, error=None if photo else "stale_button")
        return "asked"
    wants_done = (inbound.kind == "choice" and inbound.text == "photos:done") or (
        inbound.kind == "text" and is_done_word(inbound.text))
    if inbound.kind == "choice" and inbound.text == "photos:clear":
        for photo in await active_photos(turn, record.id):
            photo.removed_at = turn.now
        await turn.session.flush()
        await ask(turn, PRODUCT, record, step)
        return "asked"
    if wants_done:
        if await photo_count(turn, record.id) == 0:
            await ask(turn, PRODUCT, record, step, error="photos_needed")
            return "asked"
        return await advance(turn, PRODUCT, record, step)
    await ask(turn, PRODUCT, record, step, error="photos_expected")
    return "asked"


async def _store_photos(turn: Turn, product: Product, inbound: Inbound) -> bool:
    """Stores the photos; True when some are stored and the form goes on (the count said before it)."""
    existing = await active_photos(turn, product.id)  # type: ignore[arg-type]
    hashes = {p.sha256 for p in existing}
    problems: list[str] = []
    for photo in inbound.photos:
        if len(hashes) >= MAX_PHOTOS:
            problems.append("photo_limit")
            continue
        try:
            stored = await store_photo(photo.data, turn.settings, photo.size)
        except ValueError as exc:
            problems.append(str(exc.args[0]))
            continue
        if stored.sha256 in hashes:
            problems.append("photo_duplicate")
            continue
        hashes.add(stored.sha256)
        turn.session.add(ProductPhoto(product_id=product.id, path=stored.path, sha256=stored.sha256,
                                      width=stored.width, height=stored.height, source_id=photo.source_id,
                                      created_at=turn.now))
    product.updated_at = turn.now
    await turn.session.flush()
    if inbound.album:  # one reply for the whole album: this one replaces the one still waiting
        problems = await album.hold_reply(turn, inbound.album, problems)
    errors = [turn.text(f"errors/{key}") for key in dict.fromkeys(problems)]
    count = len(hashes)
    if count and len(hashes) > len(existing):
        turn.say("photos_saved", count=count, max=MAX_PHOTOS, errors=errors)
        return True
    choices = photo_buttons(turn, count) if count else []
    turn.say("photos_received", choices=choices, count=count, max=MAX_PHOTOS, errors=errors)
    return False


def photo_buttons(turn: Turn, count: int) -> list[Choice]:
    """Done; with photos, clear them all; with several, remove one."""
    choices = [turn.button("photos:done", "photos_done")]
    if count:
        choices.append(turn.button("photos:clear", "photos_clear"))
    if count > 1:
        choices.append(turn.button("photos:remove", "photos_remove_one"))
    return choices


async def _replace_flagged_photos(turn: Turn, product: Product) -> None:
    """In a revision that flagged the photos, the first new photos replace the old ones (not added to them)."""
    data = turn.data
    if data.get("mode") != "revision" or "photos" not in data.get("flagged", []) or data.get("photos_replaced"):
        return
    for photo in await active_photos(turn, product.id):  # type: ignore[arg-type]
        photo.removed_at = turn.now
    await turn.session.flush()
    turn.update_data(photos_replaced=True)


async def _ask_which_photo(turn: Turn, product: Product) -> Outcome:
    """Shows the photos, numbered, with one button each to remove it."""
    photos = await active_photos(turn, product.id)  # type: ignore[arg-type]
    choices = [Choice(f"photos:del:{p.id}", turn.text("photo_label", number=i))
               for i, p in enumerate(photos, start=1)]
    turn.say("which_photo", choices=choices, photos=[p.path for p in photos], count=len(photos))
    return "asked"
