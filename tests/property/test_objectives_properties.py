"""The RTO/RPO arithmetic over any measures (dr.report ``objective`` / ``rpo``, dr.models ``Measure.at`` /
``worst``): unknown stays unknown (``met`` is None exactly when a store is unknown), the worst is at least
each known store, and an exposure read later is never lower than when it was taken."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dr.models import Measure, worst
from dr.report import objective, rpo
from hypothesis import given, settings
from hypothesis import strategies as st

T0 = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)
seconds = st.floats(min_value=0, max_value=1e6, allow_nan=False, allow_infinity=False)
maybe_seconds = st.none() | seconds
objectives = st.integers(min_value=1, max_value=86_400)
stores = st.dictionaries(st.sampled_from(["aurora", "dynamodb", "s3", "efs"]), maybe_seconds, min_size=1)
measures = st.builds(
    Measure,
    seconds=maybe_seconds,
    measured_at=st.none() | st.integers(0, 3600).map(lambda s: T0 + timedelta(seconds=s)),
    source=st.just("test"),
)


@settings(max_examples=200, deadline=None)
@given(by_store=stores, target=objectives)
def test_rpo_is_unknown_iff_a_store_is_unknown_and_never_below_a_known_store(
    by_store: dict[str, float | None], target: int
) -> None:
    out = rpo(by_store, target)

    unknown = [store for store, value in by_store.items() if value is None]
    assert (out["met"] is None) == bool(unknown)
    assert (out["seconds"] is None) == bool(unknown)
    assert out["unknown_stores"] == sorted(unknown)
    known = [value for value in by_store.values() if value is not None]
    for value in known:
        assert out["worst_known_seconds"] >= round(value, 3)
        if out["seconds"] is not None:
            assert out["seconds"] >= round(value, 3)
    if out["met"] is not None:
        assert out["met"] == (max(known) <= target)


@settings(max_examples=100, deadline=None)
@given(value=maybe_seconds, target=objectives)
def test_an_objective_is_met_only_when_measured_and_within_it(value: float | None, target: int) -> None:
    out = objective(value, target)
    assert (out["met"] is None) == (value is None)
    assert out["met"] in (None, value is not None and value <= target)


@settings(max_examples=200, deadline=None)
@given(measure=measures, earlier=st.integers(0, 7200), later=st.integers(0, 7200))
def test_aging_never_lowers_an_exposure_and_unknown_stays_unknown(measure: Measure, earlier: int, later: int) -> None:
    first, second = sorted((earlier, later))
    at_first, at_second = measure.at(T0 + timedelta(seconds=first)), measure.at(T0 + timedelta(seconds=second))

    if not measure.known:
        assert at_first is None and at_second is None
        return
    assert at_first is not None and at_second is not None
    assert at_second >= at_first >= round(measure.seconds or 0.0, 3)


@settings(max_examples=200, deadline=None)
@given(st.lists(measures, max_size=5))
def test_the_worst_is_unknown_if_any_is_and_otherwise_at_least_each_known_store(items: list[Measure]) -> None:
    combined = worst(items, "all")

    if not items or any(not m.known for m in items):
        assert not combined.known and combined.seconds is None
        return
    assert combined.known and combined.measured_at == max(m.measured_at for m in items if m.measured_at)
    for measure in items:
        assert (combined.seconds or 0.0) >= (measure.at(combined.measured_at) or 0.0)
        later = combined.measured_at + timedelta(minutes=5)
        assert (combined.at(later) or 0.0) >= (measure.at(later) or 0.0)
