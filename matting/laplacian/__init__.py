"""Sparse affinity matrices (matting Laplacians) that matting methods build on.

closed_form
    The matting Laplacian of Levin, Lischinski and Weiss (TPAMI 2008).
"""

from matting.laplacian.closed_form import matting_laplacian

__all__ = ["matting_laplacian"]
