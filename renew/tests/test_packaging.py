"""The Lambda zip: the handler imports with the standard library alone (boto3 comes with the runtime)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

RENEW = Path(__file__).resolve().parents[1]


def test_build_zip_makes_an_importable_handler(tmp_path):
    out = tmp_path / "renew.zip"
    subprocess.run(["bash", str(RENEW / "build_zip.sh"), str(out)], check=True, capture_output=True, timeout=60)
    names = zipfile.ZipFile(out).namelist()
    assert "confluence_renew/handler.py" in names
    assert "confluence_core/errors.py" in names
    assert not any("__pycache__" in name for name in names)
    # -S: no site-packages (no boto3, click, numpy): what the Lambda import needs must be in the zip or stdlib.
    probe = (
        "import sys; sys.path.insert(0, sys.argv[1]); import confluence_renew.handler, confluence_renew.creds; "
        "assert not {'click', 'numpy', 'netCDF4', 'boto3'} & set(sys.modules), sorted(sys.modules)"
    )
    subprocess.run([sys.executable, "-S", "-B", "-c", probe, str(out)], check=True, timeout=60)
