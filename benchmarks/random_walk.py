"""Random-walk matting, ours against pymatting's ``estimate_alpha_rw``, side by side.

pymatting uses an 8-connected lattice, weights exp(-900 d^2) whatever its sigma, 1e-8 added
to the diagonal and Jacobi-preconditioned CG; ours the lattice of ``connectivity`` (4 by
default, the paper's) and sigma 1/30, i.e. the same beta = 900.

Every (library, variant, image) measurement runs in a fresh process, after a warm-up call
on a small image (so Numba compilation is not timed), and reports the fastest of
``--repeat`` wall times, the peak resident memory the call added, and the errors to the
ground truth over the trimap's unknown pixels (all four in the CSV). Linear solves use
relative tolerance 1e-7 on both sides. The ratio columns are ours / reference.

Data: the composites with exact ground truth in ../shared/data/composites (``--data`` points
elsewhere; the layout is {name}.png, {name}_trimap.png, {name}_alpha.png).

    python benchmarks/random_walk.py                    # ~0.3 MP, our defaults
    python benchmarks/random_walk.py --solvers auto,ichol,direct,amg --repeat 1
    python benchmarks/random_walk.py --options '{"connectivity": 8}' --tag 8
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import side_by_side

if __name__ == "__main__":
    side_by_side(__doc__, __file__, "random_walk")
