"""Placing per-reach pieces into continent-wide arrays (no files)."""

from __future__ import annotations

import numpy as np
from confluence_core.fill import FLOAT_FILL, INT_FILL
from confluence_output.gather import LABEL, PAD, TIME, TIME_DIM, Collector, Field, assemble, refill


def _field(name: str, values: np.ndarray, dims: tuple[str, ...] = (), kinds: tuple[str, ...] = (),
           labels: tuple = (), fill: float | None = None) -> Field:
    return Field("algo", "algo", name, "reach", dims, kinds, values, labels,
                 tuple("names" if k == LABEL else None for k in kinds), fill)


def test_assemble_places_rows_and_pads() -> None:
    pieces = [
        (np.array([2]), (np.arange(3),), np.array([[1.0, 2.0, 3.0]])),
        (np.array([0]), (np.arange(2),), np.array([[4.0, 5.0]])),
        (np.array([4]), (np.arange(3),), np.array([[6.0, 7.0, 8.0]])),
    ]
    out = assemble(pieces, (5, 4), np.float64, FLOAT_FILL)
    expected = np.full((5, 4), FLOAT_FILL)
    expected[2, :3] = [1, 2, 3]
    expected[0, :2] = [4, 5]
    expected[4, :3] = [6, 7, 8]
    np.testing.assert_array_equal(out, expected)


def test_assemble_scatters_node_rows_in_any_order() -> None:
    values = np.arange(6, dtype=np.int32).reshape(3, 2)
    out = assemble([(np.array([5, 1, 3]), (np.arange(2),), values)], (6, 2), np.int32, INT_FILL)
    np.testing.assert_array_equal(out[[5, 1, 3]], values)
    assert np.all(out[[0, 2, 4]] == INT_FILL)


def test_collector_times_labels_and_fills() -> None:
    c = Collector()
    # reach row 1: three times, source fill -1 (becomes the workflow fill), NaN too
    assert c.add(_field("q", np.array([[1.0, -1.0, np.nan]]), (TIME_DIM,), (TIME,), fill=-1.0), np.array([1])) is None
    # reach row 0: five times
    c.add(_field("q", np.arange(5.0)[None, :], (TIME_DIM,), (TIME,)), np.array([0]))
    # labelled statistics: union of names, first seen first
    c.add(_field("nse", np.array([[0.1, 0.2]]), ("p",), (LABEL,), (("b", "a"),)), np.array([0]))
    c.add(_field("nse", np.array([[0.3, 0.4]]), ("p",), (LABEL,), (("c", "b"),)), np.array([2]))
    arrays = {spec.name: arr for spec, arr in c.arrays(3, 0)}
    assert c.n_times == 5
    np.testing.assert_array_equal(arrays["q"][1], [1.0, FLOAT_FILL, FLOAT_FILL, FLOAT_FILL, FLOAT_FILL])
    np.testing.assert_array_equal(arrays["q"][0], np.arange(5.0))
    assert c.dims[("algo", "p")].labels == ["b", "a", "c"]
    np.testing.assert_array_equal(arrays["nse"], [[0.1, 0.2, FLOAT_FILL], [FLOAT_FILL] * 3, [0.4, FLOAT_FILL, 0.3]])


def test_collector_refuses_changed_dimensions() -> None:
    c = Collector()
    c.add(_field("x", np.array([1.0])), np.array([0]))
    why = c.add(_field("x", np.array([[1.0, 2.0]]), ("k",), (PAD,)), np.array([1]))
    assert why and "differ" in why
    arrays = {spec.name: arr for spec, arr in c.arrays(2, 0)}
    np.testing.assert_array_equal(arrays["x"], [1.0, FLOAT_FILL])


def test_refill_keeps_values_and_only_replaces_fills() -> None:
    raw = np.array([3, -9, 7], dtype=np.int32)
    np.testing.assert_array_equal(refill(raw, -9, INT_FILL), [3, INT_FILL, 7])
    assert refill(raw, None, INT_FILL) is raw
