"""Reading one answer: the value an inbound gives a step, and yes/no to a confirmation."""

from __future__ import annotations

from typing import Any

from bot.domain import regions
from bot.domain.messages import Inbound
from bot.domain.validators import yes_no
from bot.flows.base import Step


def says_none(step: Step, inbound: Inbound, answers: dict[str, Any]) -> bool:
    """A typed no ("tidak ada", "belum punya") to an optional question means skipping it."""
    if inbound.kind != "text" or not step.is_optional(answers):
        return False
    try:
        return yes_no(inbound.text) is False
    except ValueError:
        return False


def confirmation(inbound: Inbound) -> bool | None:
    """Yes/no to a confirmation: its buttons or a typed yes/no; None for anything else (a new answer)."""
    if inbound.kind == "choice" and inbound.text in ("confirm:yes", "confirm:no"):
        return inbound.text == "confirm:yes"
    if inbound.kind == "text":
        try:
            return yes_no(inbound.text)
        except ValueError:
            return None
    return None


def parse(step: Step, inbound: Inbound) -> Any:
    """The value an inbound gives `step`, a list of regions to pick from, or ValueError(key)."""
    if step.kind == "choice" and step.options is not None:
        return _parse_choice(step, inbound)
    if step.kind == "region":
        return _parse_region(inbound)
    if step.kind == "phone" and inbound.kind == "contact":
        return step.parse(inbound.phone) if step.parse else inbound.phone
    if inbound.kind != "text":
        raise ValueError("expect_text")
    return step.parse(inbound.text) if step.parse else inbound.text.strip()


def _parse_choice(step: Step, inbound: Inbound) -> Any:
    options = step.options or {}
    if inbound.kind == "choice":
        key = inbound.text.removeprefix("opt:")
        if inbound.text.startswith("opt:") and key in options:
            return options[key]
        raise ValueError("stale_button")
    if inbound.kind != "text":
        raise ValueError("choose_option")
    typed = " ".join(inbound.text.casefold().split())
    if typed in options:
        return options[typed]
    if step.parse is not None:
        try:
            return step.parse(inbound.text)
        except ValueError as exc:
            if exc.args and exc.args[0] not in _PLAIN_CHOICE_ERRORS:
                raise  # says more than "choose one" (a price typed as the unit)
    raise ValueError("choose_option")


_PLAIN_CHOICE_ERRORS = {"unit", "yes_no"}


def _parse_region(inbound: Inbound) -> Any:
    if inbound.kind == "choice" and inbound.text == "region:none":
        raise ValueError("region_retype")
    if inbound.kind == "choice" and inbound.text.startswith("region:"):
        region = regions.get_region(inbound.text.removeprefix("region:"))
        if region is None or "." not in region.code:
            raise ValueError("stale_button")
        return region.code
    if inbound.kind != "text":
        raise ValueError("expect_text")
    found, confident = regions.match_kabkota(inbound.text)
    if not found:
        raise ValueError("region_not_found")
    return found[0].code if len(found) == 1 and confident else found  # a loose typo is shown to confirm
