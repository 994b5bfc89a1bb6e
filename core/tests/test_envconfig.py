"""Settings dataclasses read from the environment (confluence_core.envconfig)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from confluence_core import envconfig
from confluence_core.errors import ConfluenceError


@dataclass(frozen=True)
class Demo:
    n_iter: int = 10
    scale: float = 0.5
    storage: bool = True
    mode: str = "a"

    def __post_init__(self) -> None:
        if self.n_iter < 1:
            raise ValueError("n_iter must be >= 1")


def test_defaults_and_overrides() -> None:
    assert envconfig.from_env(Demo, "X_", {}) == Demo()
    got = envconfig.from_env(Demo, "X_", {"X_N_ITER": "20", "X_SCALE": "1e-3", "X_STORAGE": "0", "X_MODE": "b",
                                         "OTHER": "1", "X_UNKNOWN": "3"})
    assert got == Demo(n_iter=20, scale=1e-3, storage=False, mode="b")
    assert envconfig.from_env(Demo, "X_", {"X_N_ITER": "  "}) == Demo()  # blank is unset


@pytest.mark.parametrize(("env", "message"), [
    ({"X_N_ITER": "ten"}, "X_N_ITER='ten' is not a number"),
    ({"X_N_ITER": "2.5"}, "X_N_ITER='2.5' is not a number"),
    ({"X_STORAGE": "yes"}, "X_STORAGE='yes' is not 0 or 1"),
    ({"X_N_ITER": "0"}, "X_* settings: n_iter must be >= 1"),
])
def test_bad_values_are_one_line_errors(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfluenceError, match=message.replace("*", r"\*")):
        envconfig.from_env(Demo, "X_", env)
