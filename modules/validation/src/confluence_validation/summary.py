"""Run-wide summary: ``validation/summary.csv`` and ``validation/summary.png``.

Reads every ``validation/*_validation.nc`` (one per reach with a validation
gauge), writes one CSV row per reach and product with every statistic, and a
figure: box plots of nRMSE and KGE per product over the reaches, and up to
four hydrographs (the gauge's daily record from the SoS, each product's daily
estimates on the observation days) of the reaches with the most matched days.
Both files are written atomically.
"""

from __future__ import annotations

import csv
import io as _io
import logging
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from confluence_core import scores
from confluence_core.atomic import atomic_path, write_text
from confluence_core.errors import ConfluenceError
from confluence_core.volumes import volume_path

from . import io
from .align import clean_gauge, day_to_date

if TYPE_CHECKING:
    from matplotlib.axes import Axes

log = logging.getLogger("confluence-validation")

CSV_NAME = "summary.csv"
PNG_NAME = "summary.png"
COLUMNS = ("reach_id", "gauge_agency", "gauge_id", "product", "family", "n_matched", *scores.NAMES)
#: Most products drawn in one hydrograph panel (families in this order first).
MAX_LINES = 8
FAMILY_ORDER = {"flpe": 0, "consensus": 1, "moi": 2, "offline": 3}
#: Days of gauge record drawn before the first and after the last observation day.
MARGIN_DAYS = 10


def collect(folder: Path) -> list[io.ValidationFile]:
    """Every readable ``*_validation.nc`` in ``folder``, by reach id; unreadable ones are logged and left out."""
    files = []
    for path in sorted(Path(folder).glob("*_validation.nc")):
        try:
            files.append(io.read_validation(path))
        except ConfluenceError as exc:
            log.warning("%s; left out of the summary", exc)
    return sorted(files, key=lambda f: f.reach_id)


def _fmt(value: float | int) -> str:
    if isinstance(value, int | np.integer):
        return str(int(value))
    return "" if not np.isfinite(value) else format(float(value), ".10g")


def table(files: list[io.ValidationFile]) -> str:
    """CSV text: a header of :data:`COLUMNS`, one row per reach and product (missing statistics empty)."""
    buf = _io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(COLUMNS)
    for f in files:
        for j, product in enumerate(f.products):
            w.writerow([f.reach_id, f.attrs.get("gauge_agency", ""), f.attrs.get("gauge_id", ""), product,
                        f.family[j] if j < len(f.family) else "", int(f.stats["n_matched"][j]),
                        *(_fmt(f.stats[s][j]) for s in scores.NAMES)])
    return buf.getvalue()


def _gauge_record(f: io.ValidationFile) -> tuple[np.ndarray, np.ndarray]:
    """The gauge's daily record around the observation days: from the SoS, else the stored matched values."""
    sos_name = str(f.attrs.get("sos_file", ""))
    sos_path = volume_path("input", "sos", sos_name) if sos_name else None
    if sos_path is not None and sos_path.exists() and f.days.size:
        try:
            rec = io.read_gauge(sos_path, str(f.attrs.get("gauge_agency")), str(f.attrs.get("gauge_id")),
                                f.reach_id)
        except ConfluenceError as exc:
            log.warning("%s; hydrograph of reach %s shows the matched gauge values only", exc, f.reach_id)
            rec = None
        if rec is not None:
            series = clean_gauge(rec.qt, rec.q)
            keep = (series.days >= f.days.min() - MARGIN_DAYS) & (series.days <= f.days.max() + MARGIN_DAYS)
            return series.days[keep], series.q[keep]
    return f.days, f.gauge_q


def _dates(days: np.ndarray) -> np.ndarray:
    return np.array([np.datetime64(day_to_date(int(d)), "D") for d in days], dtype="datetime64[D]")


def _box(ax: Axes, files: list[io.ValidationFile], stat: str, products: list[str], lim: tuple[float, float],
         ref: float) -> None:
    """Box plot of ``stat`` per product over the reaches (values outside ``lim`` clipped to its edge)."""
    data, labels = [], []
    for p in products:
        vals = np.array([f.stats[stat][f.products.index(p)] for f in files if p in f.products])
        vals = vals[np.isfinite(vals)]
        if vals.size:
            data.append(np.clip(vals, *lim))
            labels.append(f"{p} ({vals.size})")
    clipped = any(np.any((d <= lim[0]) | (d >= lim[1])) for d in data)
    if data:
        ax.boxplot(data, showmeans=True)
        ax.set_xticks(np.arange(1, len(labels) + 1), labels, rotation=60, ha="right", fontsize=6)
    else:
        ax.text(0.5, 0.5, f"no finite {stat}", ha="center", va="center", transform=ax.transAxes)
    ax.axhline(ref, color="0.5", lw=0.8, ls="--")
    ax.set_title(f"{stat} per product (reaches in brackets)" + (f"; clipped to [{lim[0]:g}, {lim[1]:g}]"
                                                                if clipped else ""), fontsize=8)


def _hydrograph(ax: Axes, f: io.ValidationFile) -> None:
    gdays, gq = _gauge_record(f)
    ax.plot(_dates(gdays), gq, color="k", lw=1.0, label="gauge")
    order = sorted(range(len(f.products)), key=lambda j: (FAMILY_ORDER.get(f.family[j], 9), j))
    shown = [j for j in order if np.isfinite(f.product_q[j]).any()]
    for j in shown[:MAX_LINES]:
        q = f.product_q[j]
        ok = np.isfinite(q)
        ax.plot(_dates(f.days[ok]), q[ok], marker="o", ms=2.5, lw=0.7, label=f.products[j])
    more = f" (+{len(shown) - MAX_LINES} more)" if len(shown) > MAX_LINES else ""
    ax.set_title(f"reach {f.reach_id}: {f.attrs.get('gauge_agency', '')} {f.attrs.get('gauge_id', '')}{more}",
                 fontsize=8)
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

    locator = AutoDateLocator(maxticks=6)  # type: ignore[no-untyped-call]  # matplotlib.dates is not annotated
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]  # matplotlib.dates: no annotations
    ax.set_ylabel("Q (m3/s)", fontsize=7)
    ax.tick_params(labelsize=6)
    ax.legend(fontsize=5, ncol=2)


def figure(dest: Path, files: list[io.ValidationFile], n_hydrographs: int = 4) -> Path:
    """Write the summary PNG (matplotlib Agg, no display needed) atomically."""
    from matplotlib.figure import Figure  # Figure draws with Agg; pyplot's global state is not touched

    products = list(dict.fromkeys(p for f in files for p in f.products))
    by_matched = sorted(files, key=lambda f: (-int(f.stats["n_matched"].max(initial=0)), f.reach_id))
    shown = [f for f in by_matched if f.stats["n_matched"].max(initial=0) > 0][:n_hydrographs]
    rows = 1 + (len(shown) + 1) // 2
    fig = Figure(figsize=(12, 4.2 * rows), layout="constrained")
    axes = fig.subplots(rows, 2, squeeze=False)
    _box(axes[0, 0], files, "nrmse", products, (0.0, 3.0), 0.0)
    _box(axes[0, 1], files, "kge", products, (-3.0, 1.0), 1.0)
    for k, ax in enumerate(axes[1:].ravel()):
        if k < len(shown):
            _hydrograph(ax, shown[k])
        else:
            ax.set_axis_off()
    fig.suptitle(f"Confluence validation: {len(files)} reaches, {len(products)} products")
    with atomic_path(dest) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    return dest


def summarise(folder: Path, n_hydrographs: int = 4) -> tuple[Path, Path] | None:
    """Write ``summary.csv`` and ``summary.png`` in ``folder``; None (and no file) when there is nothing."""
    files = collect(folder)
    if not files:
        log.info("nothing to summarise: no readable *_validation.nc in %s; no summary written", folder)
        return None
    n_rows = sum(len(f.products) for f in files)
    csv_path = write_text(Path(folder) / CSV_NAME, table(files))
    png_path = figure(Path(folder) / PNG_NAME, files, n_hydrographs)
    log.info("summarised %d reaches, %d reach-product rows", len(files), n_rows)
    log.info("wrote %s", csv_path)
    log.info("wrote %s", png_path)
    return csv_path, png_path
