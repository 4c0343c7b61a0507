"""The examples in the package's docstrings run and print what they show.

They are documentation users copy from, so a stale one is a bug (one was: a memory
estimate whose calibration had changed).
"""

import doctest
import importlib
import pkgutil

import pytest

import matting

MODULES = sorted(
    name
    for _, name, _ in pkgutil.walk_packages(matting.__path__, "matting.")
    if not name.endswith("__main__")  # runs the command line when imported
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
