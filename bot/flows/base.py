"""The vocabulary flows are declared in: a `Form` is an ordered tuple of `Step`s, one per field."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

Answers = Mapping[str, Any]
StepKind = Literal["text", "choice", "region", "phone", "photos"]


@dataclass(frozen=True)
class Step:
    """One field: how it is asked (`kind`, template `ask/<form>/<field>`), parsed, and when it applies.

    `parse` is a validator `str -> value` raising ValueError(key). For choice steps `options` maps each
    option key to the stored value; the labels live in templates (`labels.options[field][key]`).
    `optional` and `when` may depend on earlier answers; `depends` names the fields `when` reads, so the
    progress counter can count a step that may still come while those are unanswered. `check(value, answers)` may raise
    `validators.Unusual` for an answer that is odd next to the others (minimum order over the stock).
    """

    field: str
    kind: StepKind = "text"
    parse: Callable[[str], Any] | None = None
    options: Mapping[str, Any] | None = None
    optional: bool | Callable[[Answers], bool] = False
    when: Callable[[Answers], bool] | None = None
    check: Callable[[Any, Answers], None] | None = None
    depends: tuple[str, ...] = ()
    skip_note: str | None = None  # a template said when the step is skipped (where to get a permit)
    #: False for a field not asked on the way through (rarely held, or with a sensible default): it is
    #: changed from the summary, and a revision or a missing required answer still asks it.
    in_sequence: bool = True
    #: Needed only for the owner's own upload to INAPROC (Katalog v6), not for the Dinas: the upload kit
    #: checks these before handing it over (`Form.for_upload`).
    upload: bool = False
    #: Not a question: a value read from elsewhere for a `when` to read (a product's `usaha_pkp`, the
    #: business's PKP status). Never asked, flagged for revision, nor an answer that makes a draft non-empty.
    derived: bool = False
    #: The step this one completes (`ukuran` completes `kemasan`, asked only when the size was left out):
    #: it is not counted on its own by the progress counter, and shows the place of the step it completes.
    part_of: str | None = None

    def applies(self, answers: Answers) -> bool:
        return self.when is None or self.when(answers)

    def is_optional(self, answers: Answers) -> bool:
        return self.optional(answers) if callable(self.optional) else self.optional

    @property
    def reviewable(self) -> bool:
        """An officer may flag it for revision: a question the owner answers before submitting (not a derived
        value, nor a question the upload kit asks after approval, like the INAPROC account or its email)."""
        return not self.derived and (self.in_sequence or not self.upload)

    def may_apply(self, answers: Answers) -> bool:
        """Applies now, or may once a field it depends on is answered."""
        return self.applies(answers) or any(is_blank(answers.get(f)) for f in self.depends)


@dataclass(frozen=True)
class Form:
    """An ordered list of steps filling the columns of one record (a business or a product)."""

    name: str
    steps: tuple[Step, ...]

    def __post_init__(self) -> None:
        names = [s.field for s in self.steps]
        if len(names) != len(set(names)):
            raise ValueError(f"form {self.name} declares a field twice")

    def step(self, field: str) -> Step | None:
        return next((s for s in self.steps if s.field == field), None)

    def fields(self, answers: Answers) -> list[Step]:
        """The steps that apply, given the answers so far."""
        return [s for s in self.steps if s.applies(answers)]

    def counted(self, answers: Answers) -> list[Step]:
        """The steps the progress counter counts: a conditional step counts until it is ruled out, so the
        total only ever shrinks and a question never appears beyond the count."""
        return [s for s in self.steps if s.in_sequence and s.part_of is None and s.may_apply(answers)]

    def position(self, field: str, answers: Answers) -> int:
        """The 1-based place of a step in the counter: a step that is part of another (the package size
        after the weight) shares its place, so answering both in one message moves the counter by one."""
        step = self.step(field)
        lead = step.part_of if step is not None and step.part_of else field
        return next((i for i, s in enumerate(self.counted(answers)) if s.field == lead), 0) + 1

    def after(self, field: str | None, answers: Answers) -> Step | None:
        """The next applicable step after `field` (the first one when `field` is None)."""
        steps = self.fields(answers)
        if field is None:
            return steps[0] if steps else None
        order = [s.field for s in self.steps]
        position = order.index(field) if field in order else -1
        return next((s for s in steps if order.index(s.field) > position), None)

    def before(self, field: str, answers: Answers) -> Step | None:
        """The applicable step just before `field`, or None at the first one."""
        order = [s.field for s in self.steps]
        position = order.index(field) if field in order else len(order)
        earlier = [s for s in self.fields(answers) if order.index(s.field) < position]
        return earlier[-1] if earlier else None

    def unanswered(self, answers: Answers, skipped: list[str]) -> list[Step]:
        """Applicable steps with no answer that were not skipped on purpose."""
        return [s for s in self.fields(answers)
                if s.in_sequence and is_blank(answers.get(s.field)) and s.field not in skipped]

    def for_upload(self, answers: Answers) -> list[Step]:
        """Applicable steps only the INAPROC upload needs, with no answer yet: what the upload kit asks."""
        return [s for s in self.fields(answers) if s.upload and is_blank(answers.get(s.field))]

    def missing(self, answers: Answers) -> list[Step]:
        """Applicable required steps with no answer: what blocks a submission."""
        return [s for s in self.fields(answers) if not s.is_optional(answers) and is_blank(answers.get(s.field))]


def is_blank(value: Any) -> bool:
    return value is None or value == ""
