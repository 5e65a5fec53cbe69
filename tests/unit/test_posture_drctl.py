"""drctl readiness: the --break names its parser accepts are the knobs it knows how to apply."""

from __future__ import annotations

from drctl.cli import READINESS_KNOBS
from drctl.readiness import KNOBS


def test_every_break_the_parser_accepts_is_a_knob_and_every_knob_is_accepted() -> None:
    assert tuple(KNOBS) == READINESS_KNOBS
