"""SWOT L2_HR_RiverSP shapefile granules (contracts.md section 5): names, fields, reading.

A granule is a zip holding one shapefile (``.shp .shx .dbf .prj``) and, in
products from the ground system, a ``.shp.xml`` whose ``global_attributes``
name the SWORD file the granule was built on (``xref_prior_river_db_files``).

Readers return ``(data, metadata)``.  Field names differ between product
versions (the simulated PGA2 granules have 97 reach fields, version D
granules 126); :data:`FIELDS` is the one table that maps every version's
names to ours and says how each field is converted.  Fields are always read by
name, never by position.

Conversions done by :func:`read_granule` (the fills are *converted*, not kept):

- ``"f"`` fields -> float64; every fill (-999999999999.0, and the integer fills
  -999 / -9999 / -99999999 of columns the shapefile stores as integers, as the
  PGA2 simulator does for all-fill columns) becomes NaN.
- ``"i"`` fields (flags, counts, bit fields) -> int64; every fill becomes
  :data:`~confluence_core.fill.INT_FILL` (-999).
- ``"id"`` fields (reach_id, node_id) -> int64; a missing id is
  :data:`~confluence_core.fill.LONG_FILL`.
- ``"s"`` fields (time_str, rch_id_up ...) -> ``str`` arrays; a numeric column
  (PGA2 stores an all-fill ``time_str`` as integers) or an empty value becomes
  ``"no_data"``.
- Fields not in :data:`FIELDS` are returned as pyogrio reads them (fills kept).

A known field that the granule lacks is returned all-fill and listed in
:attr:`GranuleMeta.absent`, so code downstream reads both versions alike; a
field of :data:`REQUIRED` that is absent is an :class:`InputError`.

Given ``reach_ids``, :func:`read_granule` returns only the rows of those reaches
(in file order), the values the same as a read of every row would give them:
a first pass over the ``reach_id`` column of the ``.dbf`` (fixed-width records,
read from the zip with numpy, dBASE III layout) picks the record numbers, and
pyogrio reads and converts only those (its ``fids``).  A ``.dbf`` whose header
this pass does not understand is read whole and the rows selected afterwards.

Granules on S3 (``s3://bucket/key``) are fetched with boto3 (an optional
dependency) using the temporary credentials the renew Lambda stores in SSM
(:func:`s3_client`), read again when their ``expiration`` passes or S3 answers
``ExpiredToken`` (:class:`RefreshingS3Client`).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import tempfile
import xml.etree.ElementTree as ET
import zipfile
import zlib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .errors import ConfluenceError, InputError
from .fill import FLOAT_FILL, INT_FILL, LONG_FILL, STR_FILL
from .s3 import download, parse_url

log = logging.getLogger(__name__)

#: Features of a RiverSP granule.
FEATURES = ("Reach", "Node")

#: Integer fill values seen in RiverSP shapefiles (product fills and the PGA2 simulator's -9999).
INT_FILLS: tuple[int, ...] = (INT_FILL, -9999, LONG_FILL)

#: Environment variable holding the SSM prefix of the renew Lambda's credentials.
CREDS_PREFIX_ENV = "CONFLUENCE_CREDS_PREFIX"
DEFAULT_CREDS_PREFIX = "/confluence/creds"
CREDS_KEYS = ("accessKeyId", "secretAccessKey", "sessionToken", "expiration")

_NAME_RE = re.compile(
    r"^SWOT_L2_HR_RiverSP_(?P<feature>Reach|Node)_(?P<cycle>\d{1,4})_(?P<pass>\d{1,4})_"
    r"(?P<cc>[A-Z]{2})_(?P<start>\d{8}T\d{6})_(?P<end>\d{8}T\d{6})_(?P<crid>[A-Za-z0-9]+)_(?P<counter>\d+)$"
)
_ID_SEP = re.compile(r"[,;\s]+")
_SWORD_VERSION_RE = re.compile(r"sword[^/,\s]*?_v(\d+)", re.IGNORECASE)


@dataclass(frozen=True)
class Field:
    """How one RiverSP field is read.

    Attributes
    ----------
    kind : str
        ``"f"`` float, ``"i"`` integer flag/count, ``"id"`` SWORD id, ``"s"`` text.
    features : tuple of str
        Features whose granules carry it (``"Reach"``, ``"Node"``).
    aliases : tuple of str
        Other product versions' names for the same field, in order of preference.
    """

    kind: str
    features: tuple[str, ...] = ("Reach", "Node")
    aliases: tuple[str, ...] = ()


_R, _N, _RN = ("Reach",), ("Node",), ("Reach", "Node")

#: Our name -> how to read it, for the fields the workflow uses (contracts.md section 5)
#: and a few more that help datagen.  PGA2 and version D use the same names for all of
#: these; version D adds ``reach_q_b``, ``node_q_b``, ``wse_c``, ``width_c``, ``p_low_slp``,
#: ``river_name`` (absent from PGA2 granules: read as fill).  A later version that
#: renames a field gets the old name added to ``aliases`` here and nowhere else.
FIELDS: dict[str, Field] = {
    "reach_id": Field("id", _RN),
    "node_id": Field("id", _N),
    "time": Field("f", _RN),
    "time_tai": Field("f", _RN),
    "time_str": Field("s", _RN),
    "wse": Field("f", _RN),
    "wse_u": Field("f", _RN),
    "wse_c": Field("f", _R),
    "wse_c_u": Field("f", _R),
    "slope": Field("f", _R),
    "slope_u": Field("f", _R),
    "slope2": Field("f", _R),
    "slope2_u": Field("f", _R),
    "width": Field("f", _RN),
    "width_u": Field("f", _RN),
    "width_c": Field("f", _R),
    "width_c_u": Field("f", _R),
    "d_x_area": Field("f", _R),
    "d_x_area_u": Field("f", _R),
    "reach_q": Field("i", _R),
    "reach_q_b": Field("i", _R),
    "node_q": Field("i", _N),
    "node_q_b": Field("i", _N),
    "dark_frac": Field("f", _RN),
    "ice_clim_f": Field("i", _RN),
    "ice_dyn_f": Field("i", _RN),
    "partial_f": Field("i", _RN),
    "n_good_nod": Field("i", _R),
    "n_good_pix": Field("i", _N),
    "obs_frac_n": Field("f", _R),
    "xovr_cal_q": Field("i", _RN),
    "xtrk_dist": Field("f", _RN),
    "n_reach_up": Field("i", _R),
    "n_reach_dn": Field("i", _R),
    "rch_id_up": Field("s", _R),
    "rch_id_dn": Field("s", _R),
    "p_lat": Field("f", _R),
    "p_lon": Field("f", _R),
    "lat": Field("f", _N),
    "lon": Field("f", _N),
    "p_wse": Field("f", _RN),
    "p_width": Field("f", _RN),
    "p_length": Field("f", _RN),
    "p_dist_out": Field("f", _RN),
    "p_n_nodes": Field("i", _R),
    "p_maf": Field("f", _R),
    "p_low_slp": Field("i", _R),
    "river_name": Field("s", _RN),
}

#: Fields without which a granule is of no use: absent -> InputError.
REQUIRED: dict[str, tuple[str, ...]] = {
    "Reach": ("reach_id", "time", "wse", "width"),
    "Node": ("reach_id", "node_id", "time", "wse", "width"),
}


@dataclass(frozen=True)
class GranuleName:
    """The parts of a RiverSP granule name (``SWOT_L2_HR_RiverSP_Reach_1_51_NA_..._PGA2_03``)."""

    name: str
    feature: str
    cycle: int
    pass_number: int
    continent_code: str
    start: str
    end: str
    crid: str
    counter: int

    @property
    def cycle_pass(self) -> str:
        """``"001_051"``: the key of ``cycle_passes.json``."""
        return f"{self.cycle:03d}_{self.pass_number:03d}"

    @property
    def tile_key(self) -> tuple[int, int, str, str]:
        """What a Reach granule shares with its Node twin: (cycle, pass, continent code, start minute)."""
        return (self.cycle, self.pass_number, self.continent_code, self.start[:13])


@dataclass
class GranuleMeta:
    """What :func:`read_granule` learned about a granule besides its records.

    Attributes
    ----------
    path : str
        The file or URI read.
    name : GranuleName
    n_records : int
        Records in the granule (all of them, also when ``reach_ids`` selected fewer).
    fields : list of str
        Field names as stored in the granule.
    absent : list of str
        Known fields requested but absent (returned all-fill).
    sword_file : str or None
        ``xref_prior_river_db_files`` of the ``.shp.xml`` (None without one).
    sword_version : int or None
        SWORD version parsed from ``sword_file`` (None when unknown).
    """

    path: str
    name: GranuleName
    n_records: int = 0
    fields: list[str] = field(default_factory=list)
    absent: list[str] = field(default_factory=list)
    sword_file: str | None = None
    sword_version: int | None = None


def parse_granule_name(name: str | os.PathLike[str]) -> GranuleName:
    """Split a RiverSP granule name (a bare name, a path or a URI; ``.zip`` optional).

    Raises
    ------
    InputError
        When the name does not follow
        ``SWOT_L2_HR_RiverSP_{Reach|Node}_{cycle}_{pass}_{CC}_{start}_{end}_{CRID}_{nn}``.
    """
    base = str(name).rstrip("/").rsplit("/", 1)[-1]
    stem = re.sub(r"\.(zip|shp\.xml|shp|dbf)$", "", base)
    match = _NAME_RE.match(stem)
    if match is None:
        raise InputError(
            "not a RiverSP granule name (want SWOT_L2_HR_RiverSP_{Reach|Node}_{cycle}_{pass}_{CC}_"
            "{start}_{end}_{CRID}_{nn}.zip)", base,
        )
    g = match.groupdict()
    return GranuleName(
        name=stem, feature=g["feature"], cycle=int(g["cycle"]), pass_number=int(g["pass"]),
        continent_code=g["cc"], start=g["start"], end=g["end"], crid=g["crid"], counter=int(g["counter"]),
    )


def sword_version_of(text: str | None) -> int | None:
    """Return the SWORD version named in ``xref_prior_river_db_files`` (``na_sword_v16.nc`` -> 16)."""
    if not text:
        return None
    match = _SWORD_VERSION_RE.search(text)
    return int(match.group(1)) if match else None


def read_sword_ref(xml_bytes: bytes, path: str = "") -> str | None:
    """Return ``xref_prior_river_db_files`` from the bytes of a ``.shp.xml`` (None when absent)."""
    try:
        root = ET.fromstring(xml_bytes)
    except ET.ParseError as exc:
        raise InputError(f".shp.xml is not valid XML ({exc})", path) from None
    for elem in root.iter():
        if elem.tag.rsplit("}", 1)[-1] == "xref_prior_river_db_files":
            return (elem.text or "").strip() or None
    return None


def read_granule(
    path_or_uri: str | os.PathLike[str],
    columns: Sequence[str] | None = None,
    s3: Any = None,
    reach_ids: np.ndarray | Sequence[int] | None = None,
) -> tuple[dict[str, np.ndarray], GranuleMeta]:
    """Read a RiverSP granule zip (local path or ``s3://`` URI) without unpacking it.

    Parameters
    ----------
    path_or_uri : str or path
        ``SWOT_L2_HR_RiverSP_*.zip`` on disk, or ``s3://bucket/key``.
    columns : sequence of str, optional
        Our field names to read (see :data:`FIELDS`); default every field of the granule.
        Known fields the granule lacks come back all-fill (listed in ``meta.absent``).
    s3 : boto3 S3 client, optional
        Client for ``s3://`` URIs (default :func:`s3_client`).
    reach_ids : array of int, optional
        Return only the rows whose (converted) ``reach_id`` is one of these, in file order;
        default every row.  Only those records are read and converted.

    Returns
    -------
    data : dict of str to numpy.ndarray
        One array per field, converted as the module docstring says.
    meta : GranuleMeta

    Raises
    ------
    InputError
        Bad name, corrupt or truncated zip, no ``.shp`` ``.shx`` ``.dbf`` inside, unreadable shapefile, a field of
        :data:`REQUIRED` missing; the message names the file and the reason.
    """
    uri = str(path_or_uri)
    name = parse_granule_name(uri)
    with _local_copy(uri, s3) as local:
        try:
            with zipfile.ZipFile(local) as zf:
                members = zf.namelist()
                shp = next((m for m in members if m.lower().endswith(".shp")), None)
                if shp is None:
                    raise InputError("zip holds no .shp file", uri)
                lower = {m.lower() for m in members}
                for ext, what in ((".shx", "the shapefile index"), (".dbf", "the attribute table")):
                    if shp[:-4].lower() + ext not in lower:
                        raise InputError(f"zip holds no {ext} file ({what}) beside {shp.rsplit('/', 1)[-1]}", uri)
                xml_member = next((m for m in members if m.lower().endswith(".shp.xml")), None)
                sword_file = read_sword_ref(zf.read(xml_member), uri) if xml_member else None
                wanted_ids = None if reach_ids is None else np.unique(np.asarray(reach_ids, dtype=np.int64))
                scan = None
                if wanted_ids is not None:
                    dbf = next(m for m in members if m.lower() == shp[:-4].lower() + ".dbf")
                    scan = dbf_rows(zf.read(dbf), wanted_ids)
        except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
            raise InputError(f"corrupt zip ({exc})", uri) from None
        except OSError as exc:
            raise InputError(f"cannot read ({exc})", uri) from None
        meta = GranuleMeta(path=uri, name=name, sword_file=sword_file,
                           sword_version=sword_version_of(sword_file))
        fids = None if scan is None or scan[1].size == scan[0] else scan[1]  # all rows: a plain read
        raw_fields, raw_data = _read_shapefile(f"/vsizip/{Path(local).resolve()}/{shp}", columns, uri, fids)
    meta.fields = list(raw_fields)
    n_read = len(raw_data[0]) if raw_data else 0
    meta.n_records = n_read if scan is None else scan[0]
    by_name = dict(zip(raw_fields, raw_data, strict=True))
    missing = [f for f in REQUIRED[name.feature] if _lookup(by_name, f) is None]
    if missing:
        raise InputError(f"{name.feature} granule lacks required field(s) {', '.join(missing)}", uri)
    if wanted_ids is not None:  # exact selection on the converted ids (the scan only narrowed the read)
        keep = np.isin(_convert(by_name["reach_id"], "id"), wanted_ids)
        if not keep.all():
            by_name = {k: v[keep] for k, v in by_name.items()}
        n_read = int(keep.sum())
    wanted = list(columns) if columns is not None else _all_names(raw_fields)
    data: dict[str, np.ndarray] = {}
    for col in wanted:
        raw = _lookup(by_name, col)
        spec = FIELDS.get(col)
        if raw is None:
            if spec is None:
                continue
            meta.absent.append(col)
            data[col] = _all_fill(spec.kind, n_read)
        else:
            data[col] = raw if spec is None else _convert(raw, spec.kind)
    return data, meta


def read_sword_version(path_or_uri: str | os.PathLike[str], s3: Any = None) -> tuple[str | None, int | None]:
    """Return (``xref_prior_river_db_files``, SWORD version) of a granule from its ``.shp.xml`` alone."""
    uri = str(path_or_uri)
    with _local_copy(uri, s3) as local:
        try:
            with zipfile.ZipFile(local) as zf:
                xml_member = next((m for m in zf.namelist() if m.lower().endswith(".shp.xml")), None)
                text = read_sword_ref(zf.read(xml_member), uri) if xml_member else None
        except zipfile.BadZipFile as exc:
            raise InputError(f"corrupt zip ({exc})", uri) from None
    return text, sword_version_of(text)


def dbf_rows(dbf: bytes, reach_ids: np.ndarray, field_name: str = "reach_id") -> tuple[int, np.ndarray] | None:
    """Record numbers (0-based, ascending) of a ``.dbf`` whose ``field_name`` may be one of ``reach_ids``.

    A cheap first pass over one column of a dBASE III table: the records are fixed-width
    text, so the column is a numpy view of the bytes, stripped and parsed as integers.
    Deleted records (flag ``*``) are left out, as OGR leaves them out of a read.  The
    selection errs on the side of keeping (a padded or zero-led id is kept);
    :func:`read_granule` applies the exact test to the converted ids.

    Parameters
    ----------
    dbf : bytes
        The whole ``.dbf`` file.
    reach_ids : numpy.ndarray of int64
        Ids to keep.
    field_name : str
        The id column.

    Returns
    -------
    (n_records, rows) : tuple of int and numpy.ndarray of int64, or None
        Records in the table and the selected record numbers; None when the header
        is not understood or holds no ``field_name`` (the caller then reads every row).
    """
    if len(dbf) < 33:
        return None
    n_records = int.from_bytes(dbf[4:8], "little")
    header_len = int.from_bytes(dbf[8:10], "little")
    record_len = int.from_bytes(dbf[10:12], "little")
    if header_len > len(dbf):
        return None
    offset, pos, start, width = 1, 32, -1, 0
    while pos + 32 <= header_len and dbf[pos] != 0x0D:
        desc = dbf[pos:pos + 32]
        kind = chr(desc[11])
        size = desc[16] if kind in "NF" else desc[16] + 256 * desc[17]  # shapelib: long text fields
        if desc[:11].split(b"\0", 1)[0] == field_name.encode():
            start, width = offset, size
        offset += size
        pos += 32
    if start < 0 or width == 0 or offset != record_len or header_len + n_records * record_len > len(dbf):
        return None
    table = np.frombuffer(dbf, dtype=np.uint8, count=n_records * record_len, offset=header_len)
    table = table.reshape(n_records, record_len)
    text = np.char.strip(np.ascontiguousarray(table[:, start:start + width]).view(f"S{width}")[:, 0])
    digits = np.char.isdigit(text) & (np.char.str_len(text) <= 18)
    ids = np.full(n_records, -1, dtype=np.int64)
    ids[digits] = text[digits].astype(np.int64)
    keep = digits & (table[:, 0] != ord("*")) & np.isin(ids, reach_ids)
    return n_records, np.flatnonzero(keep).astype(np.int64)


def split_ids(values: np.ndarray, width: int = 4) -> np.ndarray:
    """Split id lists (``rch_id_up``) into an int64 ``[n, width]`` table, 0 where none.

    Version D separates the ids with commas, the PGA2 simulator with spaces; both are read.
    Anything that is not an 11-digit id (fills, ``no_data``) is dropped.
    """
    out = np.zeros((len(values), width), dtype=np.int64)
    for i, text in enumerate(values):
        ids = [int(t) for t in _ID_SEP.split(str(text)) if len(t) == 11 and t.isdigit()]
        out[i, : min(width, len(ids))] = ids[:width]
    return out


# --------------------------------------------------------------------------- S3


#: Read the credentials again this long before their ``expiration`` (a download must not outlive them).
REFRESH_MARGIN = dt.timedelta(minutes=5)
#: S3 error codes of expired credentials (a HEAD request has no body: its code is the HTTP status).
EXPIRED_CODES = frozenset({"ExpiredToken", "ExpiredTokenException", "TokenRefreshRequired", "RequestExpired"})
HEAD_CODES = frozenset({"400", "403"})


def parse_expiration(text: str | None) -> dt.datetime | None:
    """``expiration`` as PO.DAAC sends it (``2024-05-01 13:00:00+00:00``; naive means UTC); None when unreadable."""
    if not text:
        return None
    try:
        when = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        log.warning("unreadable credential expiration %r: refreshed only when S3 answers ExpiredToken", text)
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)


class RefreshingS3Client:
    """An S3 client on PO.DAAC's temporary credentials that reads them from SSM again when they expire.

    The renew Lambda replaces the four SSM parameters every 50 minutes and the credentials last an
    hour, so a job longer than that must re-read them (renew/README.md, the parameter contract).
    Before every call, when ``expiration`` is less than :data:`REFRESH_MARGIN` away, the parameters
    are read again; and when S3 answers ``ExpiredToken`` (or a bare 400/403 to a HEAD request) the
    parameters are read again and the call is repeated once, if they changed.  Every other attribute
    is the underlying boto3 client's.
    """

    def __init__(self, prefix: str, values: dict[str, str], now: Any = None) -> None:
        self._prefix = prefix
        self._now = now or (lambda: dt.datetime.now(dt.UTC))
        self._use(values)

    def _use(self, values: dict[str, str]) -> None:
        import boto3

        self._key_id = values["accessKeyId"]
        self.expiration = parse_expiration(values.get("expiration"))
        self._client = boto3.client(
            "s3", aws_access_key_id=values["accessKeyId"], aws_secret_access_key=values["secretAccessKey"],
            aws_session_token=values["sessionToken"],
        )
        log.info("S3 credentials from SSM %s (expiration %s)", self._prefix, values.get("expiration", "?"))

    def refresh(self, why: str) -> bool:
        """Read the SSM parameters again; True when they hold other credentials than the ones in use.

        Raises
        ------
        ConfluenceError
            The parameters are gone, or they have expired and were not renewed.
        """
        log.info("%s: reading the S3 credentials from SSM %s again", why, self._prefix)
        values = _ssm_values(self._prefix)
        if not all(k in values for k in CREDS_KEYS[:3]):
            raise ConfluenceError(f"the S3 credentials in SSM {self._prefix} are gone ({why}); is the renew "
                                  "schedule enabled? (confluence renew status)")
        changed = values["accessKeyId"] != self._key_id
        self._use(values)
        if self.expiration is not None and self._now() >= self.expiration:
            raise ConfluenceError(f"the S3 credentials in SSM {self._prefix} expired at {self.expiration} and were "
                                  "not renewed; is the renew schedule enabled? (confluence renew status)")
        return changed

    def _check_expiry(self) -> None:
        if self.expiration is not None and self._now() >= self.expiration - REFRESH_MARGIN:
            self.refresh(f"the credentials expire at {self.expiration}")

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._client, name)
        if name.startswith("_") or not callable(attr) or name in ("get_paginator", "can_paginate", "close"):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            from botocore.exceptions import ClientError

            self._check_expiry()
            try:
                return getattr(self._client, name)(*args, **kwargs)
            except ClientError as exc:
                code = str(exc.response.get("Error", {}).get("Code", ""))
                if code not in EXPIRED_CODES | HEAD_CODES or not self.refresh(f"S3 answered {code} to {name}"):
                    raise
            return getattr(self._client, name)(*args, **kwargs)

        return call


def _ssm_values(prefix: str) -> dict[str, str]:
    """The credential parameters under ``prefix`` that exist (name -> value); {} when SSM cannot be read."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    names = [f"{prefix}/{k}" for k in CREDS_KEYS]
    try:
        got = boto3.client("ssm").get_parameters(Names=names, WithDecryption=True)
    except (BotoCoreError, ClientError) as exc:
        log.info("no S3 credentials in SSM under %s (%s)", prefix, exc)
        return {}
    return {p["Name"].rsplit("/", 1)[-1]: p["Value"] for p in got.get("Parameters", [])}


def s3_client(prefix: str | None = None) -> Any:
    """Return an S3 client with the renew Lambda's credentials (refreshed as they expire), else the default chain.

    The renew Lambda stores PO.DAAC's temporary credentials as SSM parameters
    ``{prefix}/accessKeyId``, ``secretAccessKey``, ``sessionToken`` and ``expiration``
    (``prefix`` from ``$CONFLUENCE_CREDS_PREFIX``, default ``/confluence/creds``); the client
    reads them again when they expire (:class:`RefreshingS3Client`).
    """
    try:
        import boto3
    except ImportError:
        raise ConfluenceError("reading s3:// granules needs boto3 (pip install boto3)") from None
    prefix = (prefix or os.environ.get(CREDS_PREFIX_ENV) or DEFAULT_CREDS_PREFIX).rstrip("/")
    values = _ssm_values(prefix)
    if all(k in values for k in CREDS_KEYS[:3]):
        return RefreshingS3Client(prefix, values)
    if values:
        log.warning("incomplete S3 credentials in SSM under %s: using the default credential chain", prefix)
    else:
        log.info("using the default credential chain for S3")
    return boto3.client("s3")


@contextmanager
def _local_copy(uri: str, s3: Any) -> Iterator[str]:
    """Yield a local path of ``uri``: the path itself, or a temporary download of an S3 object."""
    if not uri.startswith("s3://"):
        if not os.path.isfile(uri):
            raise InputError("file not found", uri)
        yield uri
        return
    client = s3 if s3 is not None else s3_client()
    bucket, key = parse_url(uri)
    with tempfile.TemporaryDirectory(prefix="riversp-") as tmp:
        local = os.path.join(tmp, key.rsplit("/", 1)[-1])
        download(client, bucket, key, Path(local))
        yield local


# --------------------------------------------------------------------------- helpers


def _read_shapefile(
    vsi: str, columns: Sequence[str] | None, uri: str, fids: np.ndarray | None = None
) -> tuple[list[str], list[np.ndarray]]:
    try:
        from pyogrio import raw
    except ImportError:
        raise ConfluenceError("reading RiverSP granules needs pyogrio (pip install confluence-core[riversp])") \
            from None
    product_cols = None
    if columns is not None:
        wanted = set(columns)
        for req in FEATURES:
            wanted.update(REQUIRED[req])
        product_cols = sorted({n for c in wanted for n in (c, *_aliases(c))})
    try:
        result = raw.read(vsi, read_geometry=False, columns=product_cols, fids=fids)
    except Exception as exc:  # pyogrio/GDAL errors have several types
        raise InputError(f"unreadable shapefile ({type(exc).__name__}: {exc})", uri) from None
    meta, arrays = result[0], result[-1]
    return [str(f) for f in meta["fields"]], list(arrays)


def _aliases(name: str) -> tuple[str, ...]:
    spec = FIELDS.get(name)
    return spec.aliases if spec else ()


def _lookup(by_name: dict[str, np.ndarray], name: str) -> np.ndarray | None:
    for candidate in (name, *_aliases(name)):
        if candidate in by_name:
            return by_name[candidate]
    return None


def _all_names(raw_fields: Iterable[str]) -> list[str]:
    """Our names for every stored field (aliases mapped back to ours)."""
    alias_of = {a: ours for ours, spec in FIELDS.items() for a in spec.aliases}
    return list(dict.fromkeys(alias_of.get(f, f) for f in raw_fields))


def _all_fill(kind: str, n: int) -> np.ndarray:
    if kind == "f":
        return np.full(n, np.nan)
    if kind == "i":
        return np.full(n, INT_FILL, dtype=np.int64)
    if kind == "id":
        return np.full(n, LONG_FILL, dtype=np.int64)
    return np.full(n, STR_FILL, dtype=object)


def _convert(raw: np.ndarray, kind: str) -> np.ndarray:
    arr = np.asarray(raw)
    if kind == "s":
        if arr.dtype.kind in "iuf":
            return np.full(arr.shape, STR_FILL, dtype=object)
        text = arr.astype(str)
        return np.where((text == "") | (text == "None"), STR_FILL, text).astype(object)
    if kind == "id":
        text = arr.astype(str)
        ok = np.char.isdigit(text)
        out = np.full(arr.shape, LONG_FILL, dtype=np.int64)
        out[ok] = text[ok].astype(np.int64)
        return out
    if arr.dtype.kind in "OU":  # text column holding numbers: parse, blanks and junk are fill
        arr = _parse_floats(arr)
    values = arr.astype(np.float64)
    fill = np.isclose(values, FLOAT_FILL, rtol=0.0, atol=0.5) | ~np.isfinite(values)
    if arr.dtype.kind in "iu" or kind == "i":
        fill |= np.isin(values, INT_FILLS)
    if kind == "f":
        values[fill] = np.nan
        return values
    out = np.where(fill, INT_FILL, np.round(np.nan_to_num(values, nan=INT_FILL))).astype(np.int64)
    return out


def _parse_floats(arr: np.ndarray) -> np.ndarray:
    text = np.char.strip(arr.astype(str))
    out = np.full(text.shape, np.nan)
    for i, t in enumerate(text):
        try:
            out[i] = float(t)
        except ValueError:
            continue
    return out
