"""The documentation covers every method and builds with ``mkdocs build --strict``."""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

import matting

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


@pytest.mark.parametrize("name", list(matting.METHODS))
def test_every_method_has_a_page_with_figure_paper_and_parameters(name):
    page = (DOCS / f"{name}.md").read_text()
    assert f"::: matting.{name}" in page  # parameters, from the docstring
    assert "when to use" in page.lower()
    assert f"figures/{name}.png" in page and (DOCS / "figures" / f"{name}.png").exists()
    assert f"{name}.md" in (ROOT / "mkdocs.yml").read_text()
    assert f"::: matting.{name}" in (DOCS / "api.md").read_text()
    # The paper is named on the page as it is in the registry.
    first_author = matting.METHODS[name].citation.split(",")[0].split(".")[0]
    assert first_author in page


@pytest.mark.skipif(importlib.util.find_spec("mkdocs") is None, reason="needs the [docs] extra")
def test_mkdocs_build_strict_passes(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    api = (tmp_path / "api" / "index.html").read_text()
    for name in matting.METHODS:
        assert f"matting.{name}" in api or f'id="matting.{name}"' in api
