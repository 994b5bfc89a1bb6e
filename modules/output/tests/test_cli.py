"""The results file read back: exact module values on the SoS order, fill elsewhere, attributes,
and the failure cases (no SoS, damaged module file, destination not writable)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import netCDF4
import numpy as np
import pytest
from click.testing import CliRunner, Result
from confluence_core.fill import FLOAT_FILL, INT_FILL
from confluence_output import io
from confluence_output.cli import main
from output_runfolder import NT_71, R51, R61, R71, R81, R_CONS1, R_CONS2, R_GEOBAM, REACHES, SET_FILE, SOS, node_ids

#: index of "na" in the test continent.json
NA = ["--index", "1"]


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, [*NA, *args])


@pytest.fixture()
def results(run: Path) -> Iterator[netCDF4.Dataset]:
    res = invoke()
    assert res.exit_code == 0, res.output
    with netCDF4.Dataset(run) as ds:
        ds.set_auto_maskandscale(False)
        yield ds


def _groups(grp: Any) -> Iterator[Any]:
    yield grp
    for sub in grp.groups.values():
        yield from _groups(sub)


def _fill(var: netCDF4.Variable) -> Any:
    return var.getncattr("_FillValue") if "_FillValue" in var.ncattrs() else None


def assert_same_as_file(res: netCDF4.Dataset, group: str, src_path: Path, rid: int,
                        time_dims: tuple[str, ...] = ("nt", "time_steps")) -> int:
    """Every numeric scalar / time-series variable of ``src_path`` equals the results row of ``rid``.

    Values are compared raw and exactly; where the source holds its fill the results hold the
    workflow fill, and past the end of the series the results are fill.  Returns how many
    variables were compared.
    """
    row = REACHES.index(rid)
    checked = 0
    with netCDF4.Dataset(src_path) as src:
        src.set_auto_maskandscale(False)
        for g in _groups(src):
            rel = g.path.strip("/")
            for var in g.variables.values():
                if var.name in ("reach_id", "node_id") or var.dimensions == (var.name,):
                    continue
                if var.dtype is str or np.dtype(var.dtype).kind == "S" or set(var.dimensions) - set(time_dims):
                    continue
                out = res[f"{group}/{rel}" if rel else group][var.name]
                expected = np.atleast_1d(np.asarray(var[...]))
                got = np.atleast_1d(out[row])
                missing = expected == _fill(var) if _fill(var) is not None else np.zeros(expected.shape, bool)
                np.testing.assert_array_equal(got[: expected.size][~missing], expected[~missing],
                                              err_msg=f"{group}/{rel}/{var.name}")
                assert np.all(got[: expected.size][missing] == _fill(out))
                assert np.all(got[expected.size:] == _fill(out))
                checked += 1
    return checked


def test_values_are_exactly_those_of_the_module_files(results: netCDF4.Dataset, shared_data: Path) -> None:
    ro = shared_data / "reference_outputs"
    n = 0
    n += assert_same_as_file(results, "prediagnostics", ro / "prediags" / f"{R71}_prediagnostics.nc", R71)
    n += assert_same_as_file(results, "momma", ro / "flpe" / "momma" / f"{R71}_momma.nc", R71)
    n += assert_same_as_file(results, "sad", ro / "flpe" / "sad" / f"{R71}_sad.nc", R71)
    n += assert_same_as_file(results, "hivdi", ro / "flpe" / "hivdi" / f"{R71}_hivdi.nc", R71)
    n += assert_same_as_file(results, "sic4dvar", ro / "flpe" / "sic4dvar" / f"{R61}_sic4dvar.nc", R61)
    n += assert_same_as_file(results, "neobam", ro / "flpe" / "geobam" / f"{R_GEOBAM}_geobam.nc", R_GEOBAM)
    n += assert_same_as_file(results, "consensus", ro / "flpe" / "consensus" / f"{R_CONS1}_consensus.nc", R_CONS1)
    n += assert_same_as_file(results, "consensus", ro / "flpe" / "consensus" / f"{R_CONS2}_consensus.nc", R_CONS2)
    n += assert_same_as_file(results, "moi", ro / "moi" / f"{R71}_integrator.nc", R71)
    n += assert_same_as_file(results, "offline", ro / "offline" / f"{R71}_offline.nc", R71)
    assert n > 100
    # a value picked by hand, so the comparison above cannot be vacuous
    with netCDF4.Dataset(ro / "flpe" / "hivdi" / f"{R71}_hivdi.nc") as src:
        assert results["hivdi/reach/A0"][REACHES.index(R71)] == src["reach/A0"][...]
        q = np.ma.filled(src["reach/Q"][:], FLOAT_FILL)
    np.testing.assert_array_equal(results["hivdi/reach/Q"][REACHES.index(R71), :NT_71], q)


def test_set_file_rows_go_to_their_reach(results: netCDF4.Dataset, shared_data: Path) -> None:
    with netCDF4.Dataset(shared_data / "reference_outputs" / "flpe" / "metroman" / SET_FILE) as src:
        src.set_auto_maskandscale(False)
        ids = list(src["reach_id"][:])
        for rid in (R71, R61):
            i, row = ids.index(rid), REACHES.index(rid)
            np.testing.assert_array_equal(results["metroman/allq"][row, : len(src.dimensions["nt"])],
                                          src["allq"][i])
            assert results["metroman/A0hat"][row] == src["A0hat"][i]
            assert results["metroman/valid"][row] == src.getncattr("valid")
    assert results["metroman/A0hat"][REACHES.index(R51)] == FLOAT_FILL  # in the set, but no file of its own


def test_node_flags_follow_the_sos_node_order(results: netCDF4.Dataset, shared_data: Path) -> None:
    sos_nodes = list(results["nodes/node_id"][:])
    ids = node_ids(R71, 48)
    with netCDF4.Dataset(shared_data / "reference_outputs" / "prediags" / f"{R71}_prediagnostics.nc") as src:
        src.set_auto_maskandscale(False)
        for name in ("wse_outliers", "ice_clim_f"):
            ref = src[f"node/{name}"][:]  # (time_steps, num_nodes)
            got = results[f"prediagnostics/node/{name}"]
            for k in (0, 17, 46):  # sampled nodes; the SoS holds them in reverse order
                np.testing.assert_array_equal(got[sos_nodes.index(ids[k]), :NT_71], ref[:, k])
                assert np.all(got[sos_nodes.index(ids[k]), NT_71:] == INT_FILL)
    assert ids[47] not in sos_nodes  # the node the SoS lacks is dropped
    other = [i for i, r in enumerate(results["nodes/reach_id"][:]) if r != R71]
    assert np.all(results["prediagnostics/node/wse_outliers"][other] == INT_FILL)


def test_label_dimensions_are_the_union_of_the_reaches(results: netCDF4.Dataset, shared_data: Path) -> None:
    grp = results["postdiagnostics/flpe"]
    names = list(grp["algo_names"][:])
    # first-seen order over the SoS reaches: R81 (momma, newalgo) comes before R71
    assert names == ["momma", "newalgo", "geobam", "hivdi", "metroman", "sad", "sic4dvar5", "sic4dvar31"]
    path = shared_data / "reference_outputs" / "postdiags" / "reach" / f"{R71}_flpe_diag.nc"
    with netCDF4.Dataset(path) as src:
        for algo, flag in zip(src["algo_names"][:], src["realism_flags"][:], strict=True):
            assert grp["realism_flags"][REACHES.index(R71), names.index(algo)] == flag
    row81 = grp["realism_flags"][REACHES.index(R81)]
    assert row81[names.index("momma")] == 0 and row81[names.index("newalgo")] == 1
    assert np.sum(row81 == INT_FILL) == len(names) - 2

    val = results["validation"]
    products = list(val["product_names"][:])
    assert products == ["neobam", "metroman", "momma", "sad"]
    with netCDF4.Dataset(results.filepath().replace("output/na_sword_v16_SOS_results_unconstrained.nc",
                                                    f"validation/{R61}_validation.nc")) as src:
        src.set_auto_maskandscale(False)
        for j, prod in enumerate(src["product_names"][:]):
            assert val["KGE"][REACHES.index(R61), products.index(prod)] == src["KGE"][j]
    assert val["NSE"][REACHES.index(R61), products.index("neobam")] == FLOAT_FILL


def test_reaches_without_files_are_fill(results: netCDF4.Dataset) -> None:
    row = REACHES.index(R51)  # no module wrote anything for it
    n = 0
    for g in _groups(results):
        if g.path.strip("/").split("/")[0] in ("", "reaches", "nodes"):
            continue
        for var in g.variables.values():
            if var.dimensions[:1] == ("num_reaches",):
                want = 0 if var.name == "file_status" else _fill(var)
                assert np.all(var[row] == want), f"{g.path}/{var.name}"
                n += 1
    assert n > 100
    assert results["time"][row].tolist() == [FLOAT_FILL] * len(results.dimensions["num_times"])
    assert results["n_times"][row] == INT_FILL


def test_damaged_file_is_logged_and_its_reach_filled(run: Path) -> None:
    res = invoke()
    assert res.exit_code == 0, res.output
    assert f"{R61}_sad.nc" in res.stderr and "not a readable NetCDF" in res.stderr
    assert f"{R61}_momma.nc" in res.stderr
    assert "11111111111" not in res.stderr and "not in the SoS" in res.stderr
    with netCDF4.Dataset(run) as ds:
        ds.set_auto_maskandscale(False)
        row = REACHES.index(R61)
        assert ds["sad/file_status"][row] == 2 and ds["sad/file_status"][REACHES.index(R71)] == 1
        assert ds["sad/A0"][row] == FLOAT_FILL and ds["momma/Q"][row].max() == FLOAT_FILL
        assert ds["sad"].n_reaches_unreadable == 1


def test_time_and_attributes(results: netCDF4.Dataset, shared_data: Path) -> None:
    with netCDF4.Dataset(shared_data / "reference_outputs" / "swot" / f"{R_GEOBAM}_SWOT.nc") as src:
        src.set_auto_maskandscale(False)
        t = src["reach/time"][:]
        units = src["reach/time"].units
    row = REACHES.index(R_GEOBAM)
    np.testing.assert_array_equal(results["time"][row, : t.size], t)
    assert results["n_times"][row] == t.size == len(results.dimensions["num_times"])
    t71 = results["time"][REACHES.index(R71)]
    assert t71[3] == FLOAT_FILL and t71[4] == 7.0e8 + 86400.0 * 21 * 4 and np.all(t71[NT_71:] == FLOAT_FILL)
    assert results["time"].units == units

    attrs = {k: results.getncattr(k) for k in results.ncattrs()}
    assert attrs["run_id"] == "run-test-1"
    assert attrs["sword_version"] == "16" and attrs["sos_product_version"] == "0003"
    assert attrs["software_version"] == metadata.version("confluence-output")
    assert attrs["Conventions"].startswith("CF-")
    np.testing.assert_array_equal(results["reaches/reach_id"][:], REACHES)
    assert list(results["reaches/river_name"][:])[1] == "river 1"
    assert "model" not in results.groups

    for g in _groups(results):
        for var in g.variables.values():
            assert "long_name" in var.ncattrs(), f"{g.path}/{var.name}"
            if g.path.split("/")[1] not in ("reaches", "nodes"):
                assert "_FillValue" in var.ncattrs(), f"{g.path}/{var.name}"
    assert results["hivdi/reach/A0"].units == "m^2"  # carried from the source
    assert results["consensus/consensus_q"].short_name == "discharge_consensus"
    assert results["momma/Q"].units == "m^3/s"  # added from layout.toml
    assert results["prediagnostics/reach/wse_outliers"].flag_meanings == "not_overwritten overwritten"


def test_sos_missing_is_one_clear_error(run: Path) -> None:
    sos = run.parent.parent / "input" / "sos" / SOS
    sos.unlink()
    res = invoke()
    assert res.exit_code == 1
    last = res.stderr.strip().splitlines()[-1]
    assert last.startswith("error: confluence-output:") and SOS in last and "file not found" in last
    assert not run.exists()


def test_output_folder_not_writable(run: Path) -> None:
    out = run.parent
    os.rmdir(out)
    out.write_text("a file where the output folder should be")
    res = invoke()
    assert res.exit_code == 1
    assert "results destination is not writable" in res.stderr and str(out) in res.stderr
    assert out.read_text().startswith("a file")


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root ignores folder permissions")
def test_read_only_output_folder(run: Path) -> None:
    out = run.parent
    out.chmod(0o555)
    try:
        res = invoke()
    finally:
        out.chmod(0o755)
    assert res.exit_code == 1 and "not writable" in res.stderr
    assert list(out.iterdir()) == []


def test_failure_while_writing_leaves_nothing(run: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = {"n": 0}
    real = io._write_var

    def failing(*args: Any, **kwargs: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 20:
            raise OSError(28, "No space left on device")
        real(*args, **kwargs)

    monkeypatch.setattr(io, "_write_var", failing)
    res = invoke()
    assert res.exit_code == 1
    assert "cannot write the results file (No space left on device)" in res.stderr
    assert list(run.parent.iterdir()) == []  # neither the file nor a partial one


def test_new_variables_need_no_code_change(run: Path) -> None:
    """A module that adds a variable (and a new sub-group) sees it carried."""
    path = run.parent.parent / "offline" / f"{R71}_offline.nc"
    with netCDF4.Dataset(path, "a") as ds:
        v = ds.createVariable("new_q", "f8", ("nt",), fill_value=FLOAT_FILL)
        v[:] = np.arange(len(ds.dimensions["nt"]), dtype=float)
        g = ds.createGroup("extra")
        g.createVariable("score", "i2", ()).assignValue(7)
    res = invoke()
    assert res.exit_code == 0, res.output
    with netCDF4.Dataset(run) as ds:
        ds.set_auto_maskandscale(False)
        np.testing.assert_array_equal(ds["offline/new_q"][REACHES.index(R71), :NT_71], np.arange(NT_71))
        assert ds["offline/extra/score"][REACHES.index(R71)] == 7
        assert ds["offline/extra/score"][REACHES.index(R61)] == INT_FILL
        assert "long_name" in ds["offline/extra/score"].ncattrs()
