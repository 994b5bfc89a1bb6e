"""RiverSP granule members: shapefiles written by GDAL through pyogrio, ``.shp.xml`` metadata, zips.

GDAL's ESRI Shapefile driver (through ``pyogrio.raw.write``) writes the
``.shp``/``.shx`` geometry records, the ``.dbf`` records and the ``.prj``.
pyogrio declares a numeric field by its type only, so GDAL would give every
real field dBASE width 24 with 15 decimals and every integer field width 9,
while the RiverSP schemas fix each field's width and decimals (the PGA2 ones
are those of the real simulated granules) and the values read back depend on
the decimals.  The fields are therefore declared in an empty dBASE table
(:func:`dbf_header`) and pyogrio appends the records to it: GDAL formats every
value with the declared width and decimals (the dBASE III table format, as
GDAL reads it: text ``C``, numbers ``N``; integers with 0 decimals and width
< 10 read back as 32-bit integers).

Zips are stored (no compression) like the real RiverSP granules, with fixed
member timestamps and a fixed dBASE date so that the same world gives the
same bytes.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np
import numpy.typing as npt
from confluence_core.atomic import atomic_path
from pyogrio import raw

from .schema import LONG_NAMES, UNITS, Field

#: The .prj text of the RiverSP granules (geographic WGS 84, ESRI WKT).
WGS84_PRJ = (
    'GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],'
    'PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]'
)
#: Text encoding of the .dbf (no .cpg in the granules: readers assume ISO-8859-1).
ENCODING = "ISO-8859-1"
#: Members written by GDAL, by extension.
SHAPEFILE_MEMBERS = ("shp", "shx", "dbf", "prj")

_WKB_POINT = np.dtype([("order", "u1"), ("type", "<u4"), ("x", "<f8"), ("y", "<f8")])


# ----------------------------------------------------------------------------------------------
# geometry (WKB, little endian)
def point_wkb(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """WKB points at longitudes ``x`` and latitudes ``y`` (degrees), as an object array of bytes."""
    rec = np.empty(np.size(x), dtype=_WKB_POINT)
    rec["order"], rec["type"], rec["x"], rec["y"] = 1, 1, x, y
    size = _WKB_POINT.itemsize
    buf = rec.tobytes()
    out = np.empty(rec.size, dtype=object)
    out[:] = [buf[i : i + size] for i in range(0, len(buf), size)]
    return out


def linestring_wkb(x: np.ndarray, y: np.ndarray) -> bytes:
    """WKB of the line through longitudes ``x`` and latitudes ``y`` (degrees)."""
    head = np.array([(1, 2, x.size)], dtype=[("order", "u1"), ("type", "<u4"), ("n", "<u4")])
    return head.tobytes() + np.column_stack([x, y]).astype("<f8").tobytes()


# ----------------------------------------------------------------------------------------------
# dBASE fields and records
def dbf_header(fields: Sequence[Field], date: dt.date) -> bytes:
    """An empty dBASE III table declaring ``fields`` (name, type, width, decimals).

    ``date`` is the last-update date of the header (fixed, for reproducible bytes).
    """
    desc = np.zeros(len(fields), dtype=[("name", "S11"), ("type", "S1"), ("address", "<u4"),
                                        ("width", "u1"), ("decimals", "u1"), ("reserved", "V14")])
    desc["name"] = [f.name for f in fields]
    desc["type"] = [b"C" if f.kind == "C" else b"N" for f in fields]
    desc["width"] = [f.width for f in fields]
    desc["decimals"] = [f.decimals if f.kind == "F" else 0 for f in fields]
    head = np.zeros(1, dtype=[("version", "u1"), ("date", "u1", 3), ("n", "<u4"), ("header_len", "<u2"),
                              ("record_len", "<u2"), ("reserved", "V20")])
    head["version"] = 3
    head["date"] = tuple(_dbf_date(date))
    head["header_len"] = 32 + 32 * len(fields) + 1
    head["record_len"] = 1 + sum(f.width for f in fields)
    return head.tobytes() + desc.tobytes() + b"\r"


def columns(fields: Sequence[Field], data: Mapping[str, npt.ArrayLike | None], n: int) -> list[np.ndarray]:
    """The ``n`` values of every field, typed for pyogrio (fills in place of absent values and NaN).

    Parameters
    ----------
    fields : sequence of Field
        Schema in file order.
    data : mapping
        Field name -> array of ``n`` values or a scalar; absent fields (or None) get their fill.
    n : int
        Number of records.

    Raises
    ------
    ValueError
        When a value does not fit its field (a schema bug, never silent: GDAL would truncate it).
    """
    out = []
    for f in fields:
        values = data.get(f.name)
        values = f.fill if values is None else values
        if np.ndim(values) == 0:
            values = np.full(n, values, dtype=object if f.kind == "C" else np.float64)
        vals = np.asarray(values)
        if vals.shape[0] != n:
            raise ValueError(f"field {f.name}: {vals.shape[0]} values for {n} records")
        if f.kind == "C":
            col = vals.astype(str)
            if col.size and int(np.char.str_len(col).max()) > f.width:
                raise ValueError(f"field {f.name}: text longer than {f.width} characters")
        else:
            num = vals.astype(np.float64)
            num = np.where(np.isfinite(num), num, float(f.fill))
            if f.kind == "I":
                col = np.rint(num).astype(np.int64)
            else:  # what rounds to zero is written as zero, not as "-0.000000"
                col = np.where(np.signbit(num) & (np.rint(-num * 10.0**f.decimals) == 0), 0.0, num)
            _check_fits(f, col)
        out.append(col)
    return out


def _check_fits(field: Field, values: np.ndarray) -> None:
    """Raise ValueError when the longest text of ``values`` exceeds the field width."""
    if not values.size:
        return
    dec = field.decimals if field.kind == "F" else 0
    for v in (values.min(), values.max()):  # the longest text is that of an extreme value
        if len(f"{v:.{dec}f}") > field.width:
            raise ValueError(f"value {v} does not fit field {field.name} (width {field.width}.{dec})")


def write_shapefile(fields: Sequence[Field], cols: Sequence[np.ndarray], geometry: np.ndarray,
                    geometry_type: str, date: dt.date, workdir: str | None = None) -> dict[str, bytes]:
    """The ``.shp``, ``.shx``, ``.dbf`` and ``.prj`` bytes of one shapefile, written by GDAL.

    Parameters
    ----------
    fields : sequence of Field
        Schema in file order.
    cols : sequence of ndarray
        The values of each field (from :func:`columns`), one per record.
    geometry : ndarray
        WKB of each record (``"Point"`` or ``"LineString"`` as ``geometry_type``).
    date : date
        Last-update date of the ``.dbf`` header.
    workdir : str, optional
        Folder for GDAL's files (overwritten on each call; a temporary folder when None).

    Returns
    -------
    dict
        Extension (``shp``, ``shx``, ``dbf``, ``prj``) -> bytes.
    """
    if workdir is None:
        with tempfile.TemporaryDirectory(prefix="riversp-") as tmp:
            return write_shapefile(fields, cols, geometry, geometry_type, date, tmp)
    path = os.path.join(workdir, "granule.shp")
    common = {"driver": "ESRI Shapefile", "geometry_type": geometry_type, "crs": WGS84_PRJ}
    # an empty layer (its .cpg tells GDAL the text encoding), then the declared fields, then the records
    raw.write(path, geometry[:0], [], [], encoding=ENCODING, **common)
    Path(workdir, "granule.dbf").write_bytes(dbf_header(fields, date))
    raw.write(path, geometry, list(cols), [f.name for f in fields], append=True, **common)
    out = {ext: Path(workdir, f"granule.{ext}").read_bytes() for ext in SHAPEFILE_MEMBERS}
    # GDAL stamps today's date on a table it updates: put the fixed date back
    out["dbf"] = out["dbf"][:1] + _dbf_date(date) + out["dbf"][4:]
    return out


def _dbf_date(date: dt.date) -> bytes:
    """The three date bytes of a dBASE header (years since 1900, month, day)."""
    return bytes([date.year - 1900, date.month, date.day])


# ----------------------------------------------------------------------------------------------
# .shp.xml metadata
def shp_xml(fields: Sequence[Field], global_attrs: Mapping[str, object]) -> bytes:
    """The ``.shp.xml`` metadata of a RiverSP granule.

    Root ``swot_product`` with ``global_attributes`` (product attributes, among
    them ``xref_prior_river_db_files``, the SWORD file the granule was built
    on) and ``attributes`` (one element per field with its type, fill value,
    long name and units).
    """
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', "<swot_product>", "  <global_attributes>"]
    for key, value in global_attrs.items():
        lines.append(f"    <{key}>{escape(str(value))}</{key}>")
    lines += ["  </global_attributes>", "  <attributes>"]
    type_names = {"C": "text", "I": "i4", "F": "f8"}
    for f in fields:
        lines.append(f"    <{f.name}>")
        lines.append(f"      <type>{type_names[f.kind]}</type>")
        lines.append(f"      <fill_value>{f.fill}</fill_value>")
        if f.name in LONG_NAMES:
            lines.append(f"      <long_name>{escape(LONG_NAMES[f.name])}</long_name>")
        lines.append(f"      <short_name>{f.name}</short_name>")
        if f.name in UNITS:
            lines.append(f"      <units>{UNITS[f.name]}</units>")
        lines.append(f"    </{f.name}>")
    lines += ["  </attributes>", "</swot_product>", ""]
    return "\n".join(lines).encode("utf-8")


def write_zip(path: str | os.PathLike[str], members: Mapping[str, bytes], stamp: dt.datetime) -> Path:
    """Write a stored (uncompressed) zip of ``members`` atomically, every member dated ``stamp``."""
    path = Path(path)
    with atomic_path(path) as tmp, zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as zf:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=stamp.timetuple()[:6])
            info.external_attr = 0o644 << 16
            zf.writestr(info, data)
    return path
