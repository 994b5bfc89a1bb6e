"""Run-wide summary: ``validation/summary.csv``, ``validation/summary.png`` and ``validation/summary.json``.

Reads every ``validation/*_validation.nc`` (one per reach with a validation
gauge), writes one CSV row per reach and product with every statistic, and a
figure: box plots of nRMSE and KGE per product over the reaches, and up to
four hydrographs (the gauge's daily record from the SoS, each product's daily
estimates on the observation days) of the reaches with the most matched days.
Both files are written atomically.

A reach the run left out (``input/left_out.json``, ``confluence run
--keep-going``) that has a validation gauge in its SoS but no validation file
gets one warning naming it, the missing file and the reason, and one CSV row of
fill: empty product and statistics, ``n_matched`` 0 and the reason in the last
column ``left_out`` (empty on every other row).

``summary.json`` counts the gauges on the run's reaches: ``validation_gauges``
(CAL 0, scored), ``calibration_gauges_held_back`` (CAL 1: the constrained
branch's priors, never scored in either branch, listed in ``held_back``), with
the run's ``branch``; the log and the figure's title say the same.
"""

from __future__ import annotations

import csv
import io as _io
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from confluence_core import branch as run_branch
from confluence_core import leftout, scores
from confluence_core.atomic import atomic_path, write_text
from confluence_core.errors import ConfluenceError
from confluence_core.index import ReachEntry, reach_entry, selected_reaches
from confluence_core.jsonio import read_json, write_json
from confluence_core.volumes import volume_path

from . import io
from .align import clean_gauge, day_to_date

if TYPE_CHECKING:
    from matplotlib.axes import Axes

log = logging.getLogger("confluence-validation")

CSV_NAME = "summary.csv"
PNG_NAME = "summary.png"
JSON_NAME = "summary.json"
COLUMNS = ("reach_id", "gauge_agency", "gauge_id", "product", "family", "n_matched", *scores.NAMES, "left_out")
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


@dataclass(frozen=True)
class LeftOut:
    """A reach with a validation gauge that the run left out: no validation file, a row of fill."""

    reach_id: int
    gauge_agency: str
    gauge_id: str
    reason: str


def _reach_entries() -> dict[int, ReachEntry]:
    """``input/reaches.json`` by reach id (where each reach's SoS is); empty when absent or unreadable."""
    path = volume_path("input", "reaches.json")
    if not path.exists():
        return {}
    try:
        items = read_json(path)
        return {e.reach_id: e for e in (reach_entry(it, path) for it in items or [])}
    except (ConfluenceError, TypeError) as exc:
        log.warning("%s; SoS names of left-out reaches guessed from their continent", exc)
        return {}


def left_out(have: set[int]) -> list[LeftOut]:
    """The left-out reaches (``input/left_out.json``) with a validation gauge and no validation file.

    Each gets one warning naming it, its missing file and why the run left it out.
    A reach whose SoS cannot be read is kept (its gauge unknown, its cells empty).
    """
    missing = {r: why for r, why in leftout.read(volume_path("input")).items() if r not in have}
    if not missing:
        return []
    entries = _reach_entries()
    out = []
    for rid, why in sorted(missing.items()):
        item = entries.get(rid) or reach_entry({"reach_id": rid})
        try:
            gauges: list[io.GaugeRecord] | None = io.read_gauges(volume_path("input", "sos", item.sos), rid, cal=0)
        except ConfluenceError as exc:
            log.warning("%s; cannot tell whether left-out reach %s has a validation gauge", exc, rid)
            gauges = None
        if gauges == []:
            log.debug("reach %s left out upstream (%s) but has no validation gauge: no row", rid, why)
            continue
        g = gauges[0] if gauges else None
        log.warning("reach %s: no validation/%s_validation.nc (left out upstream: %s): a row of fill in %s",
                    rid, rid, why, CSV_NAME)
        out.append(LeftOut(rid, g.agency if g else "", g.gauge_id if g else "", why))
    return out


@dataclass(frozen=True)
class GaugeCensus:
    """The gauges on the run's reaches: validation (CAL 0, scored) and calibration (CAL 1, held back)."""

    validation: list[str]
    held_back: list[str]

    def as_dict(self) -> dict[str, object]:
        return {"branch": run_branch.current(), "validation_gauges": len(self.validation),
                "calibration_gauges_held_back": len(self.held_back), "held_back": self.held_back}

    def line(self) -> str:
        return (f"{len(self.validation)} validation gauges (CAL 0) scored, {len(self.held_back)} calibration "
                f"gauges (CAL 1) held back ({run_branch.current()} branch)")


def census() -> GaugeCensus:
    """Count the gauges of the SoS on the run's reaches (``input/reaches.json``, those ``--reaches`` selected)
    by CAL; an unreadable SoS is logged."""
    validation: list[str] = []
    held_back: list[str] = []
    wanted = selected_reaches()
    for rid, item in sorted(_reach_entries().items()):
        if wanted is not None and rid not in wanted:
            continue
        try:
            gauges = io.read_gauges(volume_path("input", "sos", item.sos), rid, cal=None)
        except ConfluenceError as exc:
            log.warning("%s; gauges of reach %s not counted", exc, rid)
            continue
        for g in gauges:
            (held_back if g.cal == 1 else validation if g.cal == 0 else []).append(f"{g.label} (reach {rid})")
    return GaugeCensus(validation, held_back)


def _fmt(value: float | int) -> str:
    if isinstance(value, int | np.integer):
        return str(int(value))
    return "" if not np.isfinite(value) else format(float(value), ".10g")


def table(files: list[io.ValidationFile], left: list[LeftOut] | None = None) -> str:
    """CSV text: a header of :data:`COLUMNS`, one row per reach and product (missing statistics empty),
    then one row of fill per left-out reach (its reason in ``left_out``)."""
    buf = _io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(COLUMNS)
    for f in files:
        for j, product in enumerate(f.products):
            w.writerow([f.reach_id, f.attrs.get("gauge_agency", ""), f.attrs.get("gauge_id", ""), product,
                        f.family[j] if j < len(f.family) else "", int(f.stats["n_matched"][j]),
                        *(_fmt(f.stats[s][j]) for s in scores.NAMES), ""])
    for lo in left or []:
        w.writerow([lo.reach_id, lo.gauge_agency, lo.gauge_id, "", "", 0, *([""] * len(scores.NAMES)), lo.reason])
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


def figure(dest: Path, files: list[io.ValidationFile], n_hydrographs: int = 4, note: str = "") -> Path:
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
    fig.suptitle(f"Confluence validation: {len(files)} reaches, {len(products)} products"
                 + (f"\n{note}" if note else ""))
    with atomic_path(dest) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    return dest


def summarise(folder: Path, n_hydrographs: int = 4) -> tuple[Path, Path] | None:
    """Write ``summary.csv``, ``summary.png`` and ``summary.json`` in ``folder``; None (and no file) when there
    is nothing to score."""
    files = collect(folder)
    left = left_out({f.reach_id for f in files})
    gauges = census()
    if not files and not left:
        log.info("nothing to summarise: no readable *_validation.nc in %s; no summary written (%s)", folder,
                 gauges.line())
        return None
    log.info("%s", gauges.line())
    n_rows = sum(len(f.products) for f in files)
    csv_path = write_text(Path(folder) / CSV_NAME, table(files, left))
    png_path = figure(Path(folder) / PNG_NAME, files, n_hydrographs, gauges.line())
    write_json(Path(folder) / JSON_NAME, {"reaches_scored": len(files), **gauges.as_dict()}, indent=1)
    log.info("summarised %d reaches, %d reach-product rows, %d left-out reach(es) as fill", len(files), n_rows,
             len(left))
    log.info("wrote %s", csv_path)
    log.info("wrote %s", png_path)
    return csv_path, png_path
