"""Sparse affinity matrices (matting Laplacians) that matting methods build on.

closed_form
    The matting Laplacian of Levin, Lischinski and Weiss (TPAMI 2008), and the unknowns'
    system it gives when some pixels are fixed.
knn
    The KNN-matting Laplacian of Chen, Li and Tang (CVPR 2012).
learning_based
    The local-learning Laplacian of Zheng and Kambhamettu (ICCV 2009).
large_kernel
    The matrix-free large-window matting Laplacian of He, Sun and Tang (CVPR 2010).
random_walk
    The random-walk graph Laplacian of Grady et al. (VIIP 2005), and its colour map learnt
    by locality preserving projections.
information_flow
    The flows of Aksoy, Aydin and Pollefeys (CVPR 2017): colour mixture, known-to-unknown,
    intra-unknown, and their weighted sum with the matting Laplacian.
"""

from matting.laplacian.closed_form import matting_laplacian, matting_laplacian_system
from matting.laplacian.information_flow import information_flow_laplacian
from matting.laplacian.knn import knn_features, knn_laplacian
from matting.laplacian.large_kernel import large_kernel_laplacian
from matting.laplacian.learning_based import learning_based_laplacian
from matting.laplacian.random_walk import lpp_colour_transform, random_walk_laplacian

__all__ = [
    "information_flow_laplacian",
    "knn_features",
    "knn_laplacian",
    "large_kernel_laplacian",
    "learning_based_laplacian",
    "lpp_colour_transform",
    "matting_laplacian",
    "matting_laplacian_system",
    "random_walk_laplacian",
]
