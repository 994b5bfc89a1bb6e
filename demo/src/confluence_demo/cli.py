"""``confluence demo``: write the synthetic SWOT world."""

from __future__ import annotations

from pathlib import Path

import click
from confluence_core.errors import ConfluenceError

from .world import DEFAULT_SEED, KINDS, generate


@click.command(name="demo")
@click.argument("out_dir", required=False, default="demo-world",
                type=click.Path(file_okay=False, path_type=Path))
@click.option("--seed", type=int, default=DEFAULT_SEED, show_default=True, help="Random seed.")
@click.option("--kind", type=click.Choice(KINDS), default="demo", show_default=True,
              help="demo: 3 basins with a junction, dam, lake, ice; bench: many simple basins.")
@click.option("--reaches", "n_reaches", type=int, default=None,
              help="Number of reaches (bench: default 1000; demo: extra basins beyond the 39 built-in).")
@click.option("--passes", "n_passes", type=int, default=None,
              help="Overpasses per reach (default 51 demo, 50 bench).")
def demo(out_dir: Path, seed: int, kind: str, n_reaches: int | None, n_passes: int | None) -> None:
    """Write a deterministic synthetic SWOT world (granules, SWORD, SoS, gauges, truth) to OUT_DIR."""
    try:
        info = generate(out_dir, seed=seed, kind=kind, n_reaches=n_reaches, n_passes=n_passes)
    except ConfluenceError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(info.summary())
