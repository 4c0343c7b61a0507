"""Classical alpha matting: estimate the alpha matte, foreground and background of an image
from a trimap or scribbles.

>>> import matting
>>> image, trimap, true_alpha = matting.datasets.load_sample()
>>> alpha = matting.closed_form(image, trimap)  # doctest: +SKIP
"""

from . import datasets, metrics
from .compare import compare
from .compose import composite, cutout
from .foreground import estimate_foreground
from .io import read_alpha, read_image, read_trimap, save_image
from .methods import METHODS
from .methods.bayesian import bayesian
from .methods.closed_form import closed_form
from .methods.information_flow import information_flow
from .methods.knn import knn
from .methods.large_kernel import large_kernel
from .methods.learning_based import learning_based
from .methods.random_walk import random_walk
from .methods.shared_sampling import shared_sampling
from .methods.spectral import spectral
from .trimap import scribbles_from_image, trimap_from_mask, trimap_from_probability

__version__ = "0.1.0"

__all__ = [
    "METHODS",
    "batch",
    "bayesian",
    "closed_form",
    "compare",
    "composite",
    "cutout",
    "datasets",
    "estimate_foreground",
    "information_flow",
    "knn",
    "large_kernel",
    "learning_based",
    "metrics",
    "plot",
    "random_walk",
    "read_alpha",
    "read_image",
    "read_trimap",
    "save_image",
    "scribbles_from_image",
    "shared_sampling",
    "spectral",
    "trimap_from_mask",
    "trimap_from_probability",
]


def __getattr__(name: str):
    # matplotlib takes a third of a second to import, and batch work is not every user's:
    # load these submodules on first use only.
    if name in ("plot", "batch"):
        import importlib

        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
