"""Put the run's data in place: the source volume, SWORD and SoS files, continent.json."""

from __future__ import annotations

from pathlib import Path

from confluence_core.errors import ConfluenceError

from .runner import RunFolder


def _find(root: Path, pattern: str, exclude: str | None = None) -> list[Path]:
    return sorted(p for p in root.rglob(pattern) if p.is_file() and not (exclude and exclude in p.name))


def _files(spec: str | None, root: Path | None, pattern: str, exclude: str | None = None) -> list[Path]:
    if spec:
        path = Path(spec)
        return [path] if path.is_file() else _find(path, pattern, exclude)
    return _find(root, pattern, exclude) if root else []


def prepare_data(folder: RunFolder, source: str | None, sword: str | None, sos: str | None,
                 needs_data: bool = True) -> str:
    """Link the source volume and stage SWORD/SoS; with no source, make the demo world.

    Returns a line to tell the user what data the run uses ("" when nothing changed).
    """
    folder.write_continents()
    link = folder.volume("source")
    note = ""
    if source:
        root = Path(source)
        folder.link_source(root)
        note = f"data: granules from {root}"
    elif link.exists():
        root = link.resolve()
    elif needs_data:
        try:
            from confluence_demo import generate
        except ImportError:
            raise ConfluenceError(
                "no --source given and the demo world package (confluence-demo) is not installed: "
                "run `make install` or give --source DIR"
            ) from None
        root = folder.root / "demo"
        if not (root / "manifest.json").exists():
            generate(root)
        folder.link_source(root)
        note = f"data: the built-in demo world ({root})"
    else:
        return ""
    swords = folder.stage(_files(sword, root, "*_sword_v*.nc", exclude="SOS"), "sword")
    soses = folder.stage(_files(sos, root, "*_SOS_priors.nc"), "sos")
    if source and not swords:
        note += "; no SWORD file found (reaches and topology come from the granules)"
    if source and not soses:
        note += "; no SoS file found (steps that need priors will say so)"
    return note
