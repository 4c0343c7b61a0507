"""Classical alpha matting: estimate the alpha matte, foreground and background of an image
from a trimap or scribbles.

>>> import matting
>>> image, trimap, true_alpha = matting.datasets.load_sample()
>>> alpha = matting.closed_form(image, trimap)  # doctest: +SKIP
"""

from . import datasets, metrics
from .compose import composite, cutout
from .foreground import estimate_foreground
from .io import read_image, read_trimap, save_image
from .methods.bayesian import bayesian
from .methods.closed_form import closed_form
from .methods.knn import knn
from .trimap import scribbles_from_image, trimap_from_mask, trimap_from_probability

__version__ = "0.1.0"

__all__ = [
    "bayesian",
    "closed_form",
    "composite",
    "cutout",
    "datasets",
    "estimate_foreground",
    "knn",
    "metrics",
    "read_image",
    "read_trimap",
    "save_image",
    "scribbles_from_image",
    "trimap_from_mask",
    "trimap_from_probability",
]
