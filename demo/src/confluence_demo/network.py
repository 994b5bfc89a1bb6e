"""River networks of the demo world: basins, reaches, nodes, centerlines, SWORD ids.

A basin is a "Y": two tributary chains join at a junction and a main stem
carries their sum to the outlet (a basin without tributaries is a single
chain).  Reaches are numbered from the outlet upstream (SWORD ids grow
upstream), nodes ~200 m apart and numbered from the downstream end of their
reach.  Ids follow contracts.md section 3 (composed by :mod:`confluence_core.ids`):
reach ``CBBBBBRRRRT``, node ``CBBBBBRRRRNNNT`` with the node's first ten digits
those of its reach and the same type digit T.

The reaches and their topology are a :class:`confluence_core.network.RiverNetwork`
(``Network.river``); :class:`Network` adds what only the generator needs
(basins, segments, nodes, centerlines, positions, names).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
from confluence_core.ids import node_ids_of, reach_id_of
from confluence_core.network import RiverNetwork

#: Mean node spacing (m), as in SWORD.
NODE_SPACING = 200.0
#: Metres per degree of latitude.
M_PER_DEG = 111_195.0


@dataclass(frozen=True)
class BasinSpec:
    """Shape of one basin.

    Attributes
    ----------
    continent : str
        SWORD continent (``na``, ``eu``).
    digit : int
        First id digit C (7, 8 or 9 for na, 2 for eu).
    code : int
        Three further digits: the basin id is ``C`` followed by them (4 digits).
    lat, lon : float
        Outlet position (degrees).
    main, trib_a, trib_b : int
        Number of reaches of the main stem and of the two tributaries.
    special : dict
        Main-stem position (0 = outlet reach) -> reach type (3 lake, 4 dam).
    name : str
        River name stem.
    regime : str
        ``snowmelt``, ``rain`` or ``arctic`` (hydrograph shape; arctic has winter ice).
    """

    continent: str
    digit: int
    code: int
    lat: float
    lon: float
    main: int
    trib_a: int = 0
    trib_b: int = 0
    special: dict[int, int] = field(default_factory=dict)
    name: str = "Demo"
    regime: str = "snowmelt"

    @property
    def basin_id(self) -> int:
        return self.digit * 1000 + self.code

    def level6_basin(self, sub: int) -> int:
        """The level-6 basin ``CBBBBB`` of sub-basin ``sub`` (two digits) of this basin."""
        return self.basin_id * 100 + sub

    @property
    def n_reaches(self) -> int:
        return self.main + self.trib_a + self.trib_b


@dataclass
class Network:
    """The generator's world: its river network plus basins, nodes, centerlines and positions.

    Arrays are aligned by reach (r, the order of ``river.reach_id``) or node (k).
    """

    # reaches
    river: RiverNetwork  # reach ids, SWORD up/dn ids, dist_out (m, at the upstream end)
    continent: np.ndarray  # str [R]
    basin: np.ndarray  # int [R] (4-digit basin id)
    basin_index: np.ndarray  # int [R] (index into specs)
    rtype: np.ndarray  # int [R]
    segment: np.ndarray  # int [R]: 0 main, 1 trib a, 2 trib b
    river_name: np.ndarray  # str [R]
    n_nodes: np.ndarray  # int [R]
    node_start: np.ndarray  # int [R]
    length: np.ndarray  # m [R]
    lon: np.ndarray  # reach centre (degrees) [R]
    lat: np.ndarray
    east: np.ndarray  # centre in basin metres [R]
    north: np.ndarray
    # nodes
    node_id: np.ndarray  # int64 [K]
    node_reach: np.ndarray  # int [K] reach index
    node_lon: np.ndarray
    node_lat: np.ndarray
    node_east: np.ndarray
    node_north: np.ndarray
    node_dist_out: np.ndarray  # m, at the node centre
    node_length: np.ndarray  # m
    # centerline points (two per node)
    cl_lon: np.ndarray
    cl_lat: np.ndarray
    cl_node: np.ndarray  # node index of each point
    specs: list[BasinSpec]

    @property
    def n_reaches(self) -> int:
        return self.river.n

    @property
    def reach_id(self) -> np.ndarray:
        """Reach ids (int64 [R])."""
        return self.river.reach_id

    @property
    def dist_out(self) -> np.ndarray:
        """Distance to the outlet at the reach's upstream end (m [R])."""
        return self.river.dist_out

    @cached_property
    def up(self) -> np.ndarray:
        """Upstream reaches as reach indices [R, 4], -1 for none."""
        return self.river.up_index()

    @cached_property
    def dn(self) -> np.ndarray:
        """Downstream reaches as reach indices [R, 4], -1 for none."""
        return self.river.dn_index()

    def up_ids(self) -> np.ndarray:
        """Upstream reach ids [R, 4], 0 for none (SWORD ``rch_id_up``)."""
        return self.river.up

    def dn_ids(self) -> np.ndarray:
        """Downstream reach ids [R, 4], 0 for none (SWORD ``rch_id_dn``)."""
        return self.river.dn

    def topo_order(self) -> np.ndarray:
        """Reach indices ordered so that every reach comes after all its upstream reaches."""
        return np.lexsort((-self.dist_out, self.basin_index))


def build(specs: list[BasinSpec], rng: np.random.Generator, node_range: tuple[int, int]) -> Network:
    """Lay out every basin: reach topology, node counts, positions and distances.

    Parameters
    ----------
    specs : list of BasinSpec
    rng : numpy.random.Generator
    node_range : (int, int)
        Inclusive range of node counts of type-1 reaches (dam reaches get 10,
        lake reaches 40).
    """
    rows: list[dict[str, Any]] = []  # reach fields, and the row numbers of its neighbours ("up", "dn")
    for b, spec in enumerate(specs):
        # segments: (segment, count); main first (outlet upward), then tributaries
        segs = [(0, spec.main), (1, spec.trib_a), (2, spec.trib_b)]
        number = 0
        seg_first: dict[int, int] = {}
        seg_last: dict[int, int] = {}
        for seg, count in segs:
            for i in range(count):
                number += 1
                rtype = spec.special.get(i, 1) if seg == 0 else 1
                if rtype == 4:
                    nn = 10
                elif rtype == 3:
                    nn = 40
                else:
                    nn = int(rng.integers(node_range[0], node_range[1] + 1))
                row: dict[str, Any] = {"basin_index": b, "segment": seg, "pos": i, "rtype": rtype, "n_nodes": nn,
                       "reach_id": reach_id_of(spec.level6_basin(10), number, rtype)}
                if i == 0:
                    seg_first[seg] = len(rows)
                seg_last[seg] = len(rows)
                rows.append(row)
        for seg in (0, 1, 2):
            if seg not in seg_first:
                continue
            idx = list(range(seg_first[seg], seg_last[seg] + 1))
            for j, r in enumerate(idx):
                rows[r]["dn"] = [idx[j - 1]] if j > 0 else []
                rows[r]["up"] = [idx[j + 1]] if j + 1 < len(idx) else []
        if 1 in seg_first:  # junction: the top of the main stem receives both tributaries
            top = seg_last[0]
            rows[top]["up"] = [seg_first[s] for s in (1, 2) if s in seg_first]
            for s in (1, 2):
                if s in seg_first:
                    rows[seg_first[s]]["dn"] = [top]
    R = len(rows)
    up = np.full((R, 4), -1, dtype=np.int64)
    dn = np.full((R, 4), -1, dtype=np.int64)
    for r, row in enumerate(rows):
        up[r, : len(row["up"])] = row["up"]
        dn[r, : len(row["dn"])] = row["dn"]
    n_nodes = np.array([row["n_nodes"] for row in rows], dtype=np.int64)
    basin_index = np.array([row["basin_index"] for row in rows], dtype=np.int64)
    segment = np.array([row["segment"] for row in rows], dtype=np.int64)
    node_len_r = NODE_SPACING * rng.uniform(0.95, 1.05, R)
    length = n_nodes * node_len_r

    # geometry: each segment runs upstream from its start point along a heading, meandering
    heading = {0: 0.0, 1: np.deg2rad(-40.0), 2: np.deg2rad(45.0)}  # from north, clockwise
    K = int(n_nodes.sum())
    node_start = np.concatenate([[0], np.cumsum(n_nodes)[:-1]]).astype(np.int64)
    node_east = np.empty(K)
    node_north = np.empty(K)
    node_dist = np.empty(K)
    node_reach = np.repeat(np.arange(R), n_nodes)
    node_length = np.repeat(node_len_r, n_nodes)
    cl_east = np.empty(2 * K)
    cl_north = np.empty(2 * K)
    dist_out = np.empty(R)
    for b in range(len(specs)):
        start = {0: (0.0, 0.0, 0.0)}  # segment -> (east, north, dist_out at start)
        for seg in (0, 1, 2):
            members = np.flatnonzero((basin_index == b) & (segment == seg))
            if members.size == 0:
                continue
            e0, n0, d0 = start[seg]
            ang = heading[seg] + rng.normal(0.0, 0.15)
            amp = rng.uniform(300.0, 900.0)
            wavelength = rng.uniform(6000.0, 12000.0)
            s_edges = np.concatenate([[0.0], np.cumsum(length[members])])
            for j, m in enumerate(members):  # m: a reach row (numpy integer)
                k0, nn = node_start[m], n_nodes[m]
                s_node = s_edges[j] + (np.arange(nn) + 0.5) * node_len_r[m]
                s_cl = s_edges[j] + (np.arange(2 * nn) + 0.5) * node_len_r[m] / 2
                for s, e_out, n_out in ((s_node, node_east, node_north), (s_cl, cl_east, cl_north)):
                    along_e, along_n = np.sin(ang), np.cos(ang)
                    wig = amp * np.sin(2 * np.pi * s / wavelength)
                    pos_e = e0 + s * along_e + wig * along_n
                    pos_n = n0 + s * along_n - wig * along_e
                    if s is s_node:
                        e_out[k0 : k0 + nn] = pos_e
                        n_out[k0 : k0 + nn] = pos_n
                    else:
                        e_out[2 * k0 : 2 * (k0 + nn)] = pos_e
                        n_out[2 * k0 : 2 * (k0 + nn)] = pos_n
                node_dist[k0 : k0 + nn] = d0 + s_node
                dist_out[m] = d0 + s_edges[j + 1]
            end = s_edges[-1]
            wig_end = amp * np.sin(2 * np.pi * end / wavelength)
            seg_top = (e0 + end * np.sin(ang) + wig_end * np.cos(ang),
                       n0 + end * np.cos(ang) - wig_end * np.sin(ang), d0 + end)
            if seg == 0:
                start[1] = start[2] = seg_top
    lat0 = np.array([specs[b].lat for b in basin_index])
    lon0 = np.array([specs[b].lon for b in basin_index])

    def to_lonlat(east: np.ndarray, north: np.ndarray, rows_of: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        la0, lo0 = lat0[rows_of], lon0[rows_of]
        lat = la0 + north / M_PER_DEG
        lon = lo0 + east / (M_PER_DEG * np.cos(np.deg2rad(la0)))
        return lon, lat

    node_lon, node_lat = to_lonlat(node_east, node_north, node_reach)
    cl_node = np.repeat(np.arange(K), 2)
    cl_lon, cl_lat = to_lonlat(cl_east, cl_north, node_reach[cl_node])
    east = np.add.reduceat(node_east, node_start) / n_nodes
    north = np.add.reduceat(node_north, node_start) / n_nodes
    lon, lat = to_lonlat(east, north, np.arange(R))

    node_id = np.concatenate([
        node_ids_of(rows[r]["reach_id"], np.arange(1, n_nodes[r] + 1)) for r in range(R)
    ])
    names = {0: "", 1: " North Fork", 2: " South Fork"}
    river_name = np.array([f"{specs[rows[r]['basin_index']].name} River{names[rows[r]['segment']]}"
                           for r in range(R)], dtype=object)
    river = RiverNetwork.from_indices(np.array([row["reach_id"] for row in rows], dtype=np.int64), up, dn,
                                      dist_out=dist_out, source="demo generator")
    return Network(
        river=river,
        continent=np.array([specs[b].continent for b in basin_index], dtype=object),
        basin=np.array([specs[b].basin_id for b in basin_index], dtype=np.int64),
        basin_index=basin_index, rtype=np.array([row["rtype"] for row in rows], dtype=np.int64),
        segment=segment, river_name=river_name, n_nodes=n_nodes, node_start=node_start,
        length=length, lon=lon, lat=lat, east=east, north=north,
        node_id=node_id, node_reach=node_reach, node_lon=node_lon, node_lat=node_lat,
        node_east=node_east, node_north=node_north, node_dist_out=node_dist, node_length=node_length,
        cl_lon=cl_lon, cl_lat=cl_lat, cl_node=cl_node, specs=specs,
    )


def demo_specs() -> list[BasinSpec]:
    """The three basins of the demo world (two continents, a junction, a dam, a lake, an arctic basin)."""
    return [
        # NA: two forks join; the main stem holds a dam (type 4) with a reservoir lake (type 3) above it
        BasinSpec("na", 7, 426, 40.2, -80.3, main=9, trib_a=5, trib_b=4, special={2: 4, 3: 3},
                  name="Alleghenia", regime="snowmelt"),
        # NA arctic: a single chain frozen in winter
        BasinSpec("na", 8, 132, 66.9, -160.0, main=6, name="Kobukia", regime="arctic"),
        # EU: two forks join
        BasinSpec("eu", 2, 314, 47.5, 10.0, main=7, trib_a=4, trib_b=4, name="Danubia", regime="rain"),
    ]


def bench_specs(n_reaches: int, rng: np.random.Generator) -> list[BasinSpec]:
    """Many simple "Y" basins of ~20 type-1 reaches on na and eu, ``n_reaches`` in total."""
    if n_reaches < 3:
        raise ValueError("a bench world needs at least 3 reaches")
    sizes = [20] * (n_reaches // 20)
    rest = n_reaches - 20 * len(sizes)
    if rest >= 3 or not sizes:
        sizes.append(rest)
    elif rest:
        sizes[-1] += rest
    specs = []
    for i, size in enumerate(sizes):
        na = i % 2 == 0
        digit = 7 if na else 2
        main = max(1, size - 2 * (size // 3)) if size >= 5 else size
        ta = (size - main) // 2
        tb = size - main - ta
        specs.append(BasinSpec(
            "na" if na else "eu", digit, 100 + i // 2, (38.0 if na else 46.0) + rng.uniform(-4, 4),
            (-95.0 if na else 8.0) + rng.uniform(-10, 10), main=main, trib_a=ta, trib_b=tb,
            name=f"Bench{i:03d}", regime="snowmelt" if na else "rain"))
    return specs
