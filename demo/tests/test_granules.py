"""RiverSP granules: names, schemas (against the real PGA2 granules), metadata, values."""

from __future__ import annotations

import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import numpy as np
import pyogrio
import pytest
from confluence_demo import WorldInfo, schema


def granules(world: WorldInfo, kind: str, crid: str | None = None) -> list[Path]:
    """Granule zips of a kind (Reach/Node), optionally of one CRID."""
    out = sorted((world.out_dir / "granules").glob(f"SWOT_L2_HR_RiverSP_{kind}_*.zip"))
    return [p for p in out if crid is None or p.name.split("_")[10] == crid]


REAL = "riversp_simulated/SWOT_L2_HR_RiverSP_{}_1_51_NA_20100816T184024_20100816T184031_PGA2_03.zip"


def _info(path) -> tuple[list[str], list[str], str]:
    info = pyogrio.read_info(f"zip://{path}")
    return list(info["fields"]), list(info["dtypes"]), info["geometry_type"]


def test_names_parse_per_contract(world) -> None:
    names = [p.name for p in granules(world, "Reach")] + [p.name for p in granules(world, "Node")]
    assert len(names) == 2 * len(world.granules)
    for name in names:
        parts = name[:-4].split("_")
        assert parts[:4] == ["SWOT", "L2", "HR", "RiverSP"] and parts[4] in ("Reach", "Node")
        assert len(parts[5]) == 3 and parts[5].isdigit() and int(parts[5]) >= 1
        assert len(parts[6]) == 3 and parts[6].isdigit()
        assert parts[7] in ("NA", "EU")
        assert parts[8] <= parts[9] and len(parts[8]) == 15 and parts[8][8] == "T"
        assert parts[10] in ("PGA2", "PID0")
    d = [n for n in names if n.split("_")[10] == "PID0"]
    assert 0.2 < len(d) / len(names) < 0.45, "about a third of the passes are version D"


def test_zip_members_and_shp_xml(world) -> None:
    for path in granules(world, "Reach")[:3] + granules(world, "Node", "PID0")[:3]:
        with zipfile.ZipFile(path) as zf:
            stem = path.name[:-4]
            assert sorted(zf.namelist()) == sorted(f"{stem}.{e}" for e in ("shp", "shx", "dbf", "prj", "shp.xml"))
            root = ET.fromstring(zf.read(f"{stem}.shp.xml"))
        sword_file = root.find("global_attributes/xref_prior_river_db_files").text
        cont = {"NA": "na", "EU": "eu"}[path.name.split("_")[7]]
        assert sword_file == f"{cont}_sword_v16.nc"
        fields = [el.tag for el in root.find("attributes")]
        assert fields == _info(path)[0]


@pytest.mark.parametrize("kind", ["Reach", "Node"])
def test_pga2_schema_equals_real_granule(world, shared_data, kind) -> None:
    real_fields, real_types, real_geom = _info(shared_data / REAL.format(kind))
    ours = granules(world, kind, "PGA2")[0]
    fields, types, geom = _info(ours)
    assert fields == real_fields
    assert types == real_types
    assert geom == real_geom
    assert len(fields) == (97 if kind == "Reach" else 51)


def test_version_d_schema(world) -> None:
    reach_fields, _, geom = _info(granules(world, "Reach", "PID0")[0])
    assert len(reach_fields) == 126 and geom == "LineString"
    for name in ("wse_c", "width_c", "reach_q_b", "p_low_slp", "river_name", "dschg_gisf"):
        assert name in reach_fields
    node_fields, _, geom = _info(granules(world, "Node", "PID0")[0])
    assert {"wse_c", "width_c", "node_q_b"} <= set(node_fields) and geom == "Point"
    assert [f.name for f in schema.D_NODE] == node_fields


def _read(path) -> dict[str, np.ndarray]:
    meta, _, _, values = pyogrio.raw.read(f"zip://{path}")
    return dict(zip(meta["fields"], values, strict=True))


def test_values_match_truth_and_fills(world, truth) -> None:
    o = truth["reach_obs"]
    key = {(int(r), int(c), int(p)): i for i, (r, c, p) in
           enumerate(zip(o["reach_id"][:], o["cycle"][:], o["pass"][:], strict=True))}
    obs_wse = o["obs_wse"][:]
    for path in granules(world, "Reach", "PID0")[:4] + granules(world, "Reach", "PGA2")[:4]:
        d = _read(path)
        parts = path.name.split("_")
        rows = [key[(int(r), int(parts[5]), int(parts[6]))] for r in d["reach_id"]]
        np.testing.assert_allclose(d["wse"], obs_wse[rows], atol=2e-6)
        assert np.all(np.abs(d["xtrk_dist"]) > 0)
        assert np.all(d["dschg_c"] == (-999999999999.0 if parts[10] == "PID0" else -99999999))
        if parts[10] == "PID0":
            assert all(t.endswith("Z") and len(t) == 20 for t in d["time_str"])
        else:
            assert np.all(d["time_str"] == -99999999)  # an integer field in PGA2, as in the real granules
    node = _read(granules(world, "Node", "PID0")[0])
    unobserved = node["wse"] == -999999999999.0
    assert np.all(node["time_str"][unobserved] == "no_data")
    assert np.all(node["node_id"].astype("U14").astype(np.int64) // 10000 == node["reach_id"].astype(np.int64)
                  // 10)
