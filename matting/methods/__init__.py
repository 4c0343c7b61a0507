"""Matting methods: one module per method, one public function each, and their registry.

:data:`METHODS` maps each method's name to a :class:`Method` record: the function, the paper
it implements (a one-line citation and a BibTeX entry), and what it accepts and returns.
:func:`matting.compare` and the command line look methods up here by name.

>>> import matting
>>> matting.METHODS["closed_form"].citation
'Levin, Lischinski, Weiss. A Closed-Form Solution to Natural Image Matting. IEEE TPAMI 30(2), 2008.'
>>> print(matting.METHODS["knn"].bibtex)  # doctest: +ELLIPSIS
@inproceedings{chen2012knn,
...
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

# Modules, not functions, are imported here so that ``matting.methods.<name>`` stays the
# module (a function of the same name would shadow it).
from . import bayesian as _bayesian
from . import closed_form as _closed_form
from . import information_flow as _information_flow
from . import knn as _knn
from . import large_kernel as _large_kernel
from . import learning_based as _learning_based
from . import random_walk as _random_walk
from . import shared_sampling as _shared_sampling
from . import spectral as _spectral

__all__ = ["METHODS", "Method", "get_method"]


@dataclass(frozen=True)
class Method:
    """A registered matting method.

    Attributes
    ----------
    name : str
        The name under which it is registered, and the function's name.
    function : callable
        ``function(image, trimap, **options) -> alpha``.
    title : str
        A short human-readable name, e.g. "Closed-form matting".
    citation : str
        The paper it implements, in one line.
    bibtex : str
        A BibTeX entry for the paper.
    scribbles : bool
        Whether it works from sparse scribbles as well as from a trimap.
    foreground : bool
        Whether it can return the foreground and background colours: with
        ``return_foreground=True`` it returns ``(alpha, foreground, background, ...)``.
    """

    name: str
    function: Callable
    title: str
    citation: str
    bibtex: str
    scribbles: bool = False
    foreground: bool = False

    def __call__(self, image, trimap, **options):
        return self.function(image, trimap, **options)


METHODS: dict[str, Method] = {}


def _register(method: Method) -> None:
    METHODS[method.name] = method


def get_method(method: str | Callable) -> tuple[str, Callable]:
    """The name and function of a method given by registered name or as a callable.

    Raises
    ------
    ValueError
        If ``method`` is a string that is not a registered name.
    """
    if callable(method):
        return getattr(method, "name", getattr(method, "__name__", repr(method))), method
    if method not in METHODS:
        raise ValueError(f"method must be one of {sorted(METHODS)} or a callable, got {method!r}")
    return method, METHODS[method].function


_register(
    Method(
        name="closed_form",
        function=_closed_form.closed_form,
        title="Closed-form matting",
        citation="Levin, Lischinski, Weiss. A Closed-Form Solution to Natural Image Matting. "
        "IEEE TPAMI 30(2), 2008.",
        bibtex="""@article{levin2008closed,
  author = {Levin, Anat and Lischinski, Dani and Weiss, Yair},
  title = {A Closed-Form Solution to Natural Image Matting},
  journal = {IEEE Transactions on Pattern Analysis and Machine Intelligence},
  volume = {30},
  number = {2},
  pages = {228--242},
  year = {2008}
}""",
        scribbles=True,
        foreground=True,
    )
)
_register(
    Method(
        name="knn",
        function=_knn.knn,
        title="KNN matting",
        citation="Chen, Li, Tang. KNN Matting. CVPR 2012.",
        bibtex="""@inproceedings{chen2012knn,
  author = {Chen, Qifeng and Li, Dingzeyu and Tang, Chi-Keung},
  title = {{KNN} Matting},
  booktitle = {IEEE Conference on Computer Vision and Pattern Recognition (CVPR)},
  pages = {869--876},
  year = {2012}
}""",
        scribbles=True,
    )
)
_register(
    Method(
        name="bayesian",
        function=_bayesian.bayesian,
        title="Bayesian matting",
        citation="Chuang, Curless, Salesin, Szeliski. A Bayesian Approach to Digital Matting. "
        "CVPR 2001.",
        bibtex="""@inproceedings{chuang2001bayesian,
  author = {Chuang, Yung-Yu and Curless, Brian and Salesin, David H. and Szeliski, Richard},
  title = {A {Bayesian} Approach to Digital Matting},
  booktitle = {IEEE Conference on Computer Vision and Pattern Recognition (CVPR)},
  volume = {2},
  pages = {264--271},
  year = {2001}
}""",
        foreground=True,
    )
)
_register(
    Method(
        name="learning_based",
        function=_learning_based.learning_based,
        title="Learning-based matting",
        citation="Zheng, Kambhamettu. Learning Based Digital Matting. ICCV 2009.",
        bibtex="""@inproceedings{zheng2009learning,
  author = {Zheng, Yuanjie and Kambhamettu, Chandra},
  title = {Learning Based Digital Matting},
  booktitle = {IEEE International Conference on Computer Vision (ICCV)},
  pages = {889--896},
  year = {2009}
}""",
        scribbles=True,
        foreground=True,
    )
)
_register(
    Method(
        name="information_flow",
        function=_information_flow.information_flow,
        title="Information-flow matting",
        citation="Aksoy, Aydin, Pollefeys. Designing Effective Inter-Pixel Information Flow "
        "for Natural Image Matting. CVPR 2017.",
        bibtex="""@inproceedings{aksoy2017designing,
  author = {Aksoy, Ya{\\u{g}}{\\i}z and Ayd{\\i}n, Tun{\\c{c}} Ozan and Pollefeys, Marc},
  title = {Designing Effective Inter-Pixel Information Flow for Natural Image Matting},
  booktitle = {IEEE Conference on Computer Vision and Pattern Recognition (CVPR)},
  pages = {29--37},
  year = {2017}
}""",
        foreground=True,
    )
)
_register(
    Method(
        name="shared_sampling",
        function=_shared_sampling.shared_sampling,
        title="Shared sampling matting",
        citation="Gastal, Oliveira. Shared Sampling for Real-Time Alpha Matting. "
        "Computer Graphics Forum 29(2) (Eurographics), 2010.",
        bibtex="""@article{gastal2010shared,
  author = {Gastal, Eduardo S. L. and Oliveira, Manuel M.},
  title = {Shared Sampling for Real-Time Alpha Matting},
  journal = {Computer Graphics Forum},
  volume = {29},
  number = {2},
  pages = {575--584},
  year = {2010}
}""",
        foreground=True,
    )
)
_register(
    Method(
        name="large_kernel",
        function=_large_kernel.large_kernel,
        title="Large-kernel matting",
        citation="He, Sun, Tang. Fast Matting Using Large Kernel Matting Laplacian Matrices. "
        "CVPR 2010.",
        bibtex="""@inproceedings{he2010fast,
  author = {He, Kaiming and Sun, Jian and Tang, Xiaoou},
  title = {Fast Matting Using Large Kernel Matting {Laplacian} Matrices},
  booktitle = {IEEE Conference on Computer Vision and Pattern Recognition (CVPR)},
  pages = {2165--2172},
  year = {2010}
}""",
        foreground=True,
    )
)
_register(
    Method(
        name="random_walk",
        function=_random_walk.random_walk,
        title="Random-walk matting",
        citation="Grady, Schiwietz, Aharon, Westermann. Random Walks for Interactive "
        "Alpha-Matting. VIIP 2005.",
        bibtex="""@inproceedings{grady2005random,
  author = {Grady, Leo and Schiwietz, Thomas and Aharon, Shmuel and Westermann, R{\\"u}diger},
  title = {Random Walks for Interactive Alpha-Matting},
  booktitle = {Proceedings of the Fifth IASTED International Conference on Visualization,
               Imaging and Image Processing (VIIP)},
  pages = {423--429},
  year = {2005}
}""",
        scribbles=True,
        foreground=True,
    )
)
_register(
    Method(
        name="spectral",
        function=_spectral.spectral,
        title="Spectral matting",
        citation="Levin, Rav-Acha, Lischinski. Spectral Matting. IEEE TPAMI 30(10), 2008.",
        bibtex="""@article{levin2008spectral,
  author = {Levin, Anat and Rav-Acha, Alex and Lischinski, Dani},
  title = {Spectral Matting},
  journal = {IEEE Transactions on Pattern Analysis and Machine Intelligence},
  volume = {30},
  number = {10},
  pages = {1699--1712},
  year = {2008}
}""",
        scribbles=True,
        foreground=True,
    )
)
