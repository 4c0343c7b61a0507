"""Information-flow matting against closed-form matting (both ours), side by side.

The target is accuracy: information flow should reach at most 0.9 times the error of
closed-form matting on the same inputs (the reference here is ``matting.closed_form``).

Every (library, variant, image) measurement runs in a fresh process, after a warm-up call
on a small image (so Numba compilation is not timed), and reports the fastest of
``--repeat`` wall times, the peak resident memory the call added, and the errors to the
ground truth over the trimap's unknown pixels (all four in the CSV). Linear solves use
relative tolerance 1e-7 on both sides. The ratio columns are ours / reference.

Data: the composites with exact ground truth in ../shared/data/composites (``--data`` points
elsewhere; the layout is {name}.png, {name}_trimap.png, {name}_alpha.png).

    python benchmarks/information_flow.py                    # ~0.3 MP, defaults
    python benchmarks/information_flow.py --solvers auto,jacobi,cg --repeat 1
    python benchmarks/information_flow.py --options '{"post_trim": false}' --tag no_post_trim
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import side_by_side

if __name__ == "__main__":
    side_by_side(__doc__, __file__, "information_flow", reference="closed_form")
