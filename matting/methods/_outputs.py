"""The return convention the Laplacian methods share."""

from __future__ import annotations

import numpy as np

from ..foreground import estimate_foreground


def method_outputs(
    image: np.ndarray, alpha: np.ndarray, info, *, return_foreground: bool, return_info: bool
):
    """``alpha``; with ``return_foreground`` also the foreground and background estimated
    from it (:func:`matting.estimate_foreground`); with ``return_info`` the solver's ``info``
    last. A single output is returned bare, several as a tuple."""
    outputs = [alpha]
    if return_foreground:
        outputs.extend(estimate_foreground(image, alpha))
    if return_info:
        outputs.append(info)
    return outputs[0] if len(outputs) == 1 else tuple(outputs)
