"""Sparse affinity matrices (matting Laplacians) that matting methods build on.

closed_form
    The matting Laplacian of Levin, Lischinski and Weiss (TPAMI 2008).
knn
    The KNN-matting Laplacian of Chen, Li and Tang (CVPR 2012).
"""

from matting.laplacian.closed_form import matting_laplacian
from matting.laplacian.knn import knn_features, knn_laplacian

__all__ = ["knn_features", "knn_laplacian", "matting_laplacian"]
