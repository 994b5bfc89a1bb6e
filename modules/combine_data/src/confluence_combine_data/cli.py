"""``confluence-combine-data``: global lists from the per-continent datagen files."""

from __future__ import annotations

import logging

import click
from confluence_core import jsonio, workflow
from confluence_core.cli import module_command
from confluence_core.errors import InputError
from confluence_core.ids import CONTINENT_ORDER
from confluence_core.index import MAX_ARRAY_SIZE
from confluence_core.volumes import volume_path

from .merge import merge, split

log = logging.getLogger("confluence-combine-data")

def names() -> list[str]:
    """The datagen lists merged here (``{name}_{c}.json`` -> ``{name}.json``): the datagen row's outputs."""
    return workflow.load().step("datagen").output_stems("input", "_{continent}.json")


@module_command("confluence-combine-data")
@click.option("--chunk-size", envvar="CONFLUENCE_CHUNK_SIZE", default=MAX_ARRAY_SIZE, show_default=True,
              type=click.IntRange(min=1),
              help="Lists longer than this are also written as {name}_{k}.json chunks. "
                   "[env CONFLUENCE_CHUNK_SIZE]")
def main(chunk_size: int) -> None:
    """Merge every {name}_{c}.json of the input volume into {name}.json (continents af, as, eu, na, oc, sa)."""
    combine(chunk_size)


def combine(chunk_size: int = MAX_ARRAY_SIZE) -> dict[str, int]:
    """Write every global file; return the number of entries of each."""
    sizes: dict[str, int] = {}
    found_any = False
    for name in names():
        parts, missing = [], []
        for c in CONTINENT_ORDER:
            path = volume_path("input", f"{name}_{c}.json")
            if path.is_file():
                parts.append(jsonio.read_json(path))
            else:
                missing.append(c)
        if missing:
            log.info("%s: no file for %s (skipped)", name, ", ".join(missing))
        found_any |= bool(parts)
        try:
            doc = merge(parts) if parts else ({} if name in ("s3_reach", "cycle_passes", "passes") else [])
        except TypeError as exc:
            raise InputError(str(exc), volume_path("input", f"{name}_*.json")) from None
        jsonio.write_json(volume_path("input", f"{name}.json"), doc)
        sizes[name] = len(doc)
        chunks = split(doc, chunk_size) if isinstance(doc, list) and len(doc) > chunk_size else []
        _remove_stale_chunks(name, len(chunks))
        if chunks:
            for k, chunk in enumerate(chunks):
                jsonio.write_json(volume_path("input", f"{name}_{k}.json"), chunk)
            log.info("%s.json: %d entries, also in %d chunks of at most %d", name, len(doc), len(chunks),
                     chunk_size)
    if not found_any:
        raise InputError("no per-continent datagen files ({name}_{c}.json): did datagen run?",
                         volume_path("input"))
    log.info("combined: %s", ", ".join(f"{n} {s}" for n, s in sizes.items()))
    return sizes



def _remove_stale_chunks(name: str, keep: int) -> None:
    """Delete ``{name}_{k}.json`` chunks with k >= ``keep`` left by an earlier, larger run."""
    for path in volume_path("input").glob(f"{name}_*.json"):
        k = path.stem[len(name) + 1 :]
        if k.isdigit() and int(k) >= keep:
            path.unlink()
            log.info("removed stale chunk %s", path.name)
