"""Fallback chains around optimizers: try each step in order, report which one answered and why.

Every optimizer in `advisor` (model portfolios, fund construction, and rebalancing) runs through
`run_chain`: a list of named steps (retry another solver → relax soft constraints → a documented safe
portfolio). The last step must always answer, so a solver failure never reaches a user; the
`FallbackReport` says which step answered and what failed before it, and `Note`s carry the customer- and
manager-facing explanation in Chinese and English.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Note:
    """A bilingual explanation line (`code` is stable for machines, `zh` / `en` are for people)."""

    code: str
    zh: str
    en: str

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "zh": self.zh, "en": self.en}


class StepFailed(Exception):  # noqa: N818 - a control-flow signal inside the chain, not an error to users
    """Raised by a step to pass control to the next one (the message is recorded in the report)."""


@dataclass(frozen=True)
class Attempt:
    step: str
    ok: bool
    message: str = ""


@dataclass(frozen=True)
class FallbackReport:
    """Which step of a chain answered (`answered_by`), every attempt, and notes for the reader."""

    answered_by: str
    attempts: tuple[Attempt, ...]
    notes: tuple[Note, ...] = field(default=())

    @property
    def degraded(self) -> bool:
        """True when the first step did not answer."""
        return bool(self.attempts) and self.attempts[0].step != self.answered_by

    def to_dict(self) -> dict[str, Any]:
        return {
            "answered_by": self.answered_by,
            "degraded": self.degraded,
            "attempts": [{"step": a.step, "ok": a.ok, "message": a.message} for a in self.attempts],
            "notes": [n.to_dict() for n in self.notes],
        }


@dataclass(frozen=True)
class Step(Generic[T]):
    """One way to get an answer. `run` returns the result or raises `StepFailed` (or any exception)."""

    name: str
    run: Callable[[], T]
    note: Note | None = None  # added to the report when this step answers


def run_chain(steps: Sequence[Step[T]], notes: Sequence[Note] = ()) -> tuple[T, FallbackReport]:
    """Run `steps` in order until one answers; the last step is expected to be the safe one.

    Any exception from a step other than the last is recorded and the chain moves on (a solver can fail
    in many library-specific ways; none of them may reach a user). If the last step fails too, its
    exception propagates: that is a programming error, not an infeasible request.
    """
    if not steps:
        raise ValueError("a fallback chain needs at least one step")
    attempts: list[Attempt] = []
    for i, step in enumerate(steps):
        try:
            result = step.run()
        except Exception as err:
            if i == len(steps) - 1:
                raise
            attempts.append(Attempt(step.name, False, f"{type(err).__name__}: {err}"[:300]))
            continue
        attempts.append(Attempt(step.name, True))
        all_notes = tuple(notes) + ((step.note,) if step.note is not None and i > 0 else ())
        return result, FallbackReport(step.name, tuple(attempts), all_notes)
    raise AssertionError("unreachable")
