"""Score a removal mask against the truth of which observations were bad."""

from __future__ import annotations

import numpy as np


def evaluate(
    removed_mask: np.ndarray, truth_bad_mask: np.ndarray, valid: np.ndarray | None = None
) -> tuple[float, float, float]:
    """Return ``(precision, recall, kept_good_fraction)`` of a removal.

    Parameters
    ----------
    removed_mask : array_like of bool
        ``True`` where the step removed the observation.
    truth_bad_mask : array_like of bool, same shape
        ``True`` where the observation is truly bad (planted).
    valid : array_like of bool, optional
        Only these entries are scored (e.g. the observed ones); default all.

    Returns
    -------
    precision : float
        Removed-and-bad / removed (NaN when nothing was removed).
    recall : float
        Removed-and-bad / bad (NaN when nothing is bad).
    kept_good_fraction : float
        Kept-and-good / good (NaN when nothing is good).
    """
    removed = np.asarray(removed_mask, dtype=bool)
    bad = np.asarray(truth_bad_mask, dtype=bool)
    if removed.shape != bad.shape:
        raise ValueError(f"shapes differ: removed {removed.shape}, truth {bad.shape}")
    if valid is not None:
        keep = np.broadcast_to(np.asarray(valid, dtype=bool), removed.shape)
        removed, bad = removed[keep], bad[keep]
    n_removed = int(removed.sum())
    n_bad = int(bad.sum())
    n_good = int((~bad).sum())
    hits = int((removed & bad).sum())
    precision = hits / n_removed if n_removed else float("nan")
    recall = hits / n_bad if n_bad else float("nan")
    kept_good = int((~removed & ~bad).sum()) / n_good if n_good else float("nan")
    return precision, recall, kept_good
