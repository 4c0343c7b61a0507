"""Matte many images: local worker processes by default, a Dask cluster on request.

Pairing rule: every image file (``.png``, ``.jpg``, ``.jpeg``, ``.tif``, ``.tiff``, ``.bmp``,
``.webp``) is matched with the trimap file that has the same *stem* (file name without its
extension) in the trimaps folder, whatever its extension: ``photos/cat.jpg`` goes with
``trimaps/cat.png``. An image without a trimap, or with several, is a failure of that image
only. The alpha matte of ``cat.jpg`` is written to ``out_dir/cat.png``.

Nothing lost, nothing redone:

- outputs are written to a hidden temporary file in ``out_dir`` and renamed into place, so a
  killed run never leaves a truncated ``cat.png`` behind;
- a re-run skips images whose output exists and is complete (a readable PNG of the image's
  size), so an interrupted batch resumes where it stopped (``overwrite=True`` recomputes);
  ``out_dir`` records the settings (method, options, bits) in ``.matting_batch_settings``,
  and a re-run with other settings is refused rather than skipping mattes not its own;
- an image that fails (unreadable file, trimap of another size, a method error, a worker
  killed for lack of memory) is recorded with its error while the others go on; the failures
  are listed by name at the end and in the summary file ``out_dir/summary.csv`` (image,
  status, seconds, output, error), and the command exits with status 1.

The work runs in local processes (``concurrent.futures``, one per core, BLAS and Numba
threads capped so the processes do not compete for cores), or, with ``scheduler=`` an address
such as ``"tcp://10.0.0.5:8786"`` or a ``dask.distributed.Client``, on an existing Dask
cluster: the way to use more than one machine. ``dask`` and ``distributed`` (the ``[dask]``
extra) are imported only then. Workers read and write the given paths themselves, so on a
cluster they must see the same file system (a network share).
"""

from __future__ import annotations

import argparse
import csv
import io
import multiprocessing
import multiprocessing.connection
import os
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["IMAGE_SUFFIXES", "BatchResult", "Record", "add_batch_parser", "run"]

#: File extensions taken as images (and trimaps), compared case-insensitively.
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp")

#: Name of the summary file written in ``out_dir``.
SUMMARY_NAME = "summary.csv"

_SUMMARY_FIELDS = ("image", "status", "seconds", "output", "error")


@dataclass
class Record:
    """What happened to one image: ``status`` is "ok", "skipped" or "failed"."""

    image: str
    status: str
    seconds: float = 0.0
    output: str = ""
    error: str = ""


@dataclass
class BatchResult:
    """Per-image records, in input order, and where the summary was written."""

    records: list[Record] = field(default_factory=list)
    summary_path: Path | None = None

    def _with(self, status: str) -> list[Record]:
        return [record for record in self.records if record.status == status]

    @property
    def done(self) -> list[Record]:
        return self._with("ok")

    @property
    def skipped(self) -> list[Record]:
        return self._with("skipped")

    @property
    def failed(self) -> list[Record]:
        return self._with("failed")

    @property
    def exit_status(self) -> int:
        """0 when every image has a matte, 1 when any failed."""
        return 1 if self.failed else 0


@dataclass
class _Job:
    """One image's work, sent to a worker process (plain data: it must pickle)."""

    image: str
    trimap: str | None
    output: str
    method: str
    options: dict[str, Any]
    bits: int
    pairing_error: str = ""
    numba_threads: int = 0
    index: int = 0


# --------------------------------------------------------------------------------------------
# Inputs: listing, pairing, completeness of existing outputs
# --------------------------------------------------------------------------------------------


def _is_image_file(path: Path) -> bool:
    return (
        path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES and not path.name.startswith(".")
    )


def _list_files(source, name: str) -> list[Path]:
    """Image files of a folder (sorted by name) or an explicit list of paths."""
    if isinstance(source, (str, os.PathLike)):
        folder = Path(source)
        if not folder.is_dir():
            raise ValueError(
                f"{name} must be a folder or a list of files; {folder} is not a folder"
            )
        return sorted((path for path in folder.iterdir() if _is_image_file(path)), key=str)
    try:
        return [Path(path) for path in source]
    except TypeError:
        raise ValueError(
            f"{name} must be a folder or a list of file paths, got {type(source).__name__}"
        ) from None


def _pair(images: list[Path], trimaps: list[Path], out_dir: Path, **job) -> list[_Job]:
    """One job per image, its trimap found by stem; pairing problems become per-image errors."""
    trimaps_by_stem: dict[str, list[Path]] = {}
    for trimap in trimaps:
        trimaps_by_stem.setdefault(trimap.stem, []).append(trimap)
    jobs, seen = [], {}
    for image in images:
        candidates = trimaps_by_stem.get(image.stem, [])
        error = ""
        if image.stem in seen:
            error = f"another image, {seen[image.stem]}, has the same name and output"
        elif not candidates:
            error = f"no trimap named {image.stem}.* among the trimaps"
        elif len(candidates) > 1:
            error = f"several trimaps for one image: {', '.join(map(str, candidates))}"
        seen.setdefault(image.stem, image.name)
        jobs.append(
            _Job(
                index=len(jobs),
                image=str(image.resolve()),
                trimap=str(candidates[0].resolve()) if len(candidates) == 1 else None,
                output=str((out_dir / f"{image.stem}.png").resolve()),
                pairing_error=error,
                **job,
            )
        )
    return jobs


def _image_size(path: str) -> tuple[int, int] | None:
    """(width, height) from the image's header, or None when it cannot be read."""
    from PIL import Image

    try:
        with Image.open(path) as picture:
            return picture.size
    except (OSError, SyntaxError, ValueError):
        return None


def _output_is_complete(job: _Job) -> bool:
    """True when the output exists, is an intact image file and has the image's size.

    Outputs are renamed into place only once fully written, so this guards against files
    damaged or replaced by something else, not against our own partial writes.
    """
    from PIL import Image

    if not os.path.isfile(job.output):
        return False
    try:
        with Image.open(job.output) as picture:
            size = picture.size
            picture.load()  # decodes every byte: a truncated file raises here
    except (OSError, SyntaxError, ValueError):
        return False
    image_size = _image_size(job.image)
    # EXIF orientation may have swapped the image's sides when it was read.
    return image_size is not None and size in (image_size, image_size[::-1])


def _remove_stale_temporaries(out_dir: Path, stems: Iterable[str]) -> None:
    """Delete temporary files a killed run left for the images about to be processed."""
    for stem in stems:
        for stale in out_dir.glob(f".{stem}.*.partial.png"):
            stale.unlink(missing_ok=True)


# --------------------------------------------------------------------------------------------
# The work on one image (runs in a worker process)
# --------------------------------------------------------------------------------------------


def _resolve_method(name: str) -> Callable:
    """The registered matting method called ``name``; ValueError listing the choices otherwise."""
    from .methods import get_method

    return get_method(name)[1]


def _save_atomically(path: str, alpha, bits: int) -> None:
    """Write to a hidden temporary file beside ``path``, then rename it over ``path``."""
    import matting

    target = Path(path)
    # A random name of our own rather than mkstemp's, whose 0600 mode the rename would keep.
    temporary = target.parent / f".{target.stem}.{uuid.uuid4().hex}.partial.png"
    try:
        matting.save_image(temporary, alpha, bits=bits)
        with open(temporary, "rb") as written:
            os.fsync(written.fileno())
        os.replace(temporary, target)  # atomic on POSIX and Windows
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


#: Held around the method call when parallel kernels of two threads could collide. A Dask
#: worker runs tasks in several threads, and Numba's fallback threading layer (workqueue,
#: where neither OpenMP nor TBB is available, as on a stock macOS) ends the process when two
#: threads launch parallel kernels at once. OpenMP and TBB allow it, so images then run side
#: by side.
_PARALLEL_KERNELS = threading.Lock()


def _parallel_kernels_are_threadsafe() -> bool:
    """Whether this process's Numba threading layer lets threads run parallel kernels at
    once; False while no parallel kernel has run yet (the layer is chosen then)."""
    import numba

    try:
        return numba.threading_layer() != "workqueue"
    except ValueError:
        return False


@contextmanager
def _kernels_guarded(waited: list[float]) -> Iterator[None]:
    """Take ``_PARALLEL_KERNELS`` unless the threading layer makes it needless; the seconds
    spent waiting for it are appended to ``waited`` (they are not the image's time)."""
    if _parallel_kernels_are_threadsafe():
        yield
        return
    before = time.perf_counter()
    with _PARALLEL_KERNELS:
        waited.append(time.perf_counter() - before)
        yield


def _process(job: _Job) -> Record:
    """Matte one image; every error becomes a failed record rather than an exception."""
    import matting  # before the clock starts: a new worker's import is not this image's time

    start = time.perf_counter()
    waited: list[float] = []
    name = Path(job.image).name
    try:
        if job.pairing_error:
            raise ValueError(job.pairing_error)
        if job.numba_threads:
            import numba

            numba.set_num_threads(min(job.numba_threads, numba.config.NUMBA_NUM_THREADS))
        image = matting.read_image(job.image)
        trimap = matting.read_trimap(job.trimap)
        if trimap.shape != image.shape[:2]:
            raise ValueError(
                f"trimap {Path(job.trimap).name} is {trimap.shape[1]}x{trimap.shape[0]} but "
                f"the image is {image.shape[1]}x{image.shape[0]}"
            )
        with _kernels_guarded(waited):
            alpha = _resolve_method(job.method)(image, trimap, **job.options)
        _save_atomically(job.output, alpha, job.bits)
    except Exception as error:  # noqa: BLE001 - one image's failure must not stop the batch
        seconds = time.perf_counter() - start - sum(waited)
        return Record(name, "failed", seconds, "", _describe(error))
    return Record(name, "ok", time.perf_counter() - start - sum(waited), job.output)


def _describe(error: BaseException) -> str:
    if isinstance(error, (ValueError, OSError, MemoryError)) and str(error):
        return f"{type(error).__name__}: {error}"
    # Unexpected errors keep their traceback's last line, where they came from.
    where = traceback.extract_tb(error.__traceback__)
    place = f" (at {Path(where[-1].filename).name}:{where[-1].lineno})" if where else ""
    return f"{type(error).__name__}: {error}{place}"


# --------------------------------------------------------------------------------------------
# Executors
# --------------------------------------------------------------------------------------------

#: Thread-count variables of the BLAS libraries numpy and scipy may load.
_BLAS_THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
)


@contextmanager
def _worker_environment(numba_threads: int) -> Iterator[None]:
    """Environment for worker processes started inside the block.

    BLAS reads its thread count when it is loaded, before any initializer could run, so the
    variables must be in the environment the processes start with: set here while workers
    are spawned, then restored.
    """
    wanted = dict.fromkeys(_BLAS_THREAD_VARIABLES, "1")
    wanted["NUMBA_NUM_THREADS"] = str(numba_threads)
    saved = {name: os.environ.get(name) for name in wanted}
    os.environ.update(wanted)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _exit_with_parent() -> None:
    """Worker initializer: end this process as soon as the process that started it ends.

    A pool's workers wait for work on a pipe that they themselves keep open, so a parent
    killed without cleaning up (``kill -9``, the system's out-of-memory killer) used to leave
    them behind, idle or still computing, for good. A daemon thread waits on the parent's
    sentinel, which becomes ready when the parent ends however it ends. The thread needs the
    interpreter lock; the library's compiled kernels release it (``nogil=True``, checked by
    the tests), so a worker in the middle of one ends at once too (measured: 0.06 s after
    the parent, inside a 4-million-point neighbour query).
    """
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def wait_for_parent() -> None:
        multiprocessing.connection.wait([parent.sentinel])
        os._exit(1)

    threading.Thread(target=wait_for_parent, name="matting-parent-watch", daemon=True).start()


def _process_pool(max_workers: int) -> ProcessPoolExecutor:
    # "spawn": fresh interpreters, safe with Numba's threads in the parent (fork is not).
    return ProcessPoolExecutor(
        max_workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_exit_with_parent,
    )


def _run_local(jobs: list[_Job], max_workers: int, report: Callable[[_Job, Record], None]):
    """Run jobs in spawned processes; a worker that dies fails only the image it was on."""
    executor = _process_pool(min(max_workers, len(jobs)))
    futures = {}
    with _worker_environment(jobs[0].numba_threads or 1):
        for job in jobs:
            futures[executor.submit(_process, job)] = job
    interrupted = []
    outstanding = set(futures)
    while outstanding:
        finished, outstanding = wait(outstanding, return_when=FIRST_COMPLETED)
        for future in finished:
            try:
                report(futures[future], future.result())
            except BrokenProcessPool:
                interrupted.append(futures[future])
    executor.shutdown(wait=True, cancel_futures=True)
    _blame_dead_worker(sorted(interrupted, key=lambda job: job.index), report)


def _blame_dead_worker(jobs: list[_Job], report: Callable[[_Job, Record], None]) -> None:
    """After a worker died (the system kills it when memory runs out), the pool fails every
    image not yet finished and cannot say which one was the cause: retry each alone, in a
    fresh process, so that only the culprit is reported as failed."""
    for job in jobs:
        executor = _process_pool(1)
        with _worker_environment(job.numba_threads or 1):
            future = executor.submit(_process, job)
        try:
            report(job, future.result())
        except BrokenProcessPool:
            report(
                job,
                Record(
                    Path(job.image).name,
                    "failed",
                    0.0,
                    "",
                    "the worker process died (killed, perhaps for lack of memory)",
                ),
            )
        executor.shutdown(wait=True)


def _run_dask(jobs: list[_Job], scheduler, report: Callable[[_Job, Record], None]) -> None:
    """Run jobs on an existing Dask cluster (a scheduler address or a Client)."""
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise ImportError(
            "scheduler= needs Dask: pip install 'matting[dask]' (dask and distributed)"
        ) from None
    own_client = not isinstance(scheduler, Client)
    if own_client:
        _check_address(scheduler)
    client = Client(scheduler, set_as_default=False) if own_client else scheduler
    try:
        futures = {}
        for job in jobs:
            # pure=False: two runs of the same job are two computations (a re-run must redo
            # an image whose output was deleted, not fetch a cached result).
            futures[client.submit(_process, job, pure=False)] = job
        for future in as_completed(futures, loop=client.loop):
            job = futures[future]
            try:
                report(job, future.result())
            except Exception as error:  # noqa: BLE001 - e.g. KilledWorker: fail this image only
                report(job, Record(Path(job.image).name, "failed", 0.0, "", _describe(error)))
    finally:
        if own_client:
            client.close()


def _check_address(scheduler) -> None:
    """ValueError for a scheduler address Dask cannot parse. Checked before ``Client``: a
    Client whose constructor fails on the address hangs for a minute in its finaliser."""
    from distributed.comm.addressing import parse_address, parse_host_port

    try:
        scheme, location = parse_address(str(scheduler))
        if scheme in ("tcp", "tls"):
            parse_host_port(location)
    except ValueError as error:
        raise ValueError(
            f"scheduler {scheduler!r} is not a Dask address such as tcp://host:8786 ({error})"
        ) from None


# --------------------------------------------------------------------------------------------
# Progress and summary
# --------------------------------------------------------------------------------------------


class _Progress:
    """A one-line progress bar on a terminal, one line per image otherwise (logs)."""

    def __init__(self, total: int, stream, enabled: bool):
        self.total = total
        self.stream = stream
        self.enabled = enabled and total > 0
        self.count = 0
        self.failed = 0
        self.start = time.perf_counter()
        self.interactive = enabled and hasattr(stream, "isatty") and stream.isatty()

    def update(self, record: Record) -> None:
        self.count += 1
        self.failed += record.status == "failed"
        if not self.enabled:
            return
        elapsed = time.perf_counter() - self.start
        if self.interactive:
            width = 30
            filled = round(width * self.count / self.total)
            bar = "#" * filled + "." * (width - filled)
            failed = f", {self.failed} failed" if self.failed else ""
            line = f"\r[{bar}] {self.count}/{self.total}{failed}, {elapsed:.0f} s"
            self.stream.write(line + ("\n" if self.count == self.total else ""))
        else:
            self.stream.write(
                f"[{self.count}/{self.total}] {record.image}: {record.status} "
                f"({record.seconds:.2f} s)\n"
            )
        self.stream.flush()


#: Written into the output folder: the settings its mattes were made with, so that a re-run
#: with other settings does not take them for its own finished outputs.
SETTINGS_FILE = ".matting_batch_settings"


def _settings_text(method, options: dict, bits: int) -> str:
    name = method if isinstance(method, str) else getattr(method, "__name__", repr(method))
    return f"method={name}\noptions={sorted(options.items())!r}\nbits={bits}\n"


def _check_settings(out_dir: Path, method, options: dict, bits: int, overwrite: bool) -> None:
    """ValueError when ``out_dir`` holds mattes made with other settings (and no overwrite)."""
    path = out_dir / SETTINGS_FILE
    if overwrite or not path.is_file():
        return
    previous = path.read_text()
    if previous != _settings_text(method, options, bits):
        raise ValueError(
            f"{out_dir} holds mattes made with other settings ({previous.strip()}); they would "
            "be skipped as done. Pass overwrite=True (--overwrite) or another folder"
        )


def _write_settings(out_dir: Path, method, options: dict, bits: int) -> None:
    (out_dir / SETTINGS_FILE).write_text(_settings_text(method, options, bits))


def _write_summary(records: list[Record], path: Path) -> None:
    """The summary CSV, written atomically like the outputs."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=_SUMMARY_FIELDS)
    writer.writeheader()
    for record in records:
        row = asdict(record)
        row["seconds"] = f"{record.seconds:.3f}"
        writer.writerow(row)
    temporary = path.parent / f".summary.{uuid.uuid4().hex}.partial"
    temporary.write_text(buffer.getvalue(), newline="")
    os.replace(temporary, path)


def _print_report(result: BatchResult, seconds: float, stream) -> None:
    records = result.records
    width = max([len(record.image) for record in records] + [5])
    stream.write(f"{'image':<{width}}  {'status':<7}  {'seconds':>8}\n")
    for record in records:
        stream.write(f"{record.image:<{width}}  {record.status:<7}  {record.seconds:>8.2f}\n")
    stream.write(
        f"{len(result.done)} done, {len(result.skipped)} skipped (already done), "
        f"{len(result.failed)} failed in {seconds:.1f} s; summary: {result.summary_path}\n"
    )
    if result.failed:
        stream.write("failed:\n")
        for record in result.failed:
            stream.write(f"  {record.image}: {record.error}\n")
    stream.flush()


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


def _check_options(method: str, options: dict) -> None:
    from .cli import check_options

    check_options(method, _resolve_method(method), options)


def run(
    images,
    trimaps,
    out_dir,
    method: str = "closed_form",
    *,
    scheduler=None,
    max_workers: int | None = None,
    bits: int = 8,
    overwrite: bool = False,
    progress: bool = True,
    **options,
) -> BatchResult:
    """Matte every image of a folder (or list) with its trimap and write the alpha mattes.

    Parameters
    ----------
    images : str, path or list of paths
        A folder (its image files, sorted by name) or a list of image files.
    trimaps : str, path or list of paths
        A folder or a list of trimap files, paired with the images by file stem (see the
        module documentation).
    out_dir : str or path
        Where ``{stem}.png`` alpha mattes and ``summary.csv`` are written (created if
        needed).
    method : str
        A matting method of the library, e.g. ``"closed_form"``, ``"knn"``, ``"bayesian"``.
    scheduler : str or distributed.Client, optional
        None (default): local worker processes. A Dask scheduler address
        (``"tcp://host:8786"``) or a ``distributed.Client``: run on that cluster.
    max_workers : int, optional
        Local worker processes; default one per core (``os.cpu_count()``). Each gets
        ``cores // max_workers`` Numba threads and one BLAS thread. 0 runs the images one
        after the other in this process (no start-up cost; for small batches and debugging,
        but a crash or out-of-memory kill then ends the whole run).
    bits : {8, 16}
        Bit depth of the written mattes.
    overwrite : bool
        Recompute images whose output already exists (default: skip them). Needed to reuse
        an ``out_dir`` whose mattes were made with another method, options or ``bits``.
    progress : bool
        Show progress on standard error and print the summary table on standard output.
    **options
        Passed to the method, e.g. ``radius=2``.

    Returns
    -------
    BatchResult
        ``records`` (image, status "ok"/"skipped"/"failed", seconds, output, error) in input
        order, ``done``, ``skipped``, ``failed``, ``exit_status`` and ``summary_path``.

    Raises
    ------
    ValueError
        For an unknown method, options the method does not take, ``bits`` not 8 or 16,
        ``images``/``trimaps`` that are neither a folder nor a list of paths, no image files,
        an ``out_dir`` holding the inputs or (without ``overwrite``) mattes made with other
        settings, or a malformed scheduler address. Problems with individual files never
        raise: they are recorded as failures.

    Examples
    --------
    >>> from matting.batch import run
    >>> result = run("photos", "trimaps", "mattes", method="closed_form")  # doctest: +SKIP
    >>> [record.image for record in result.failed]  # doctest: +SKIP
    []
    """
    if bits not in (8, 16):
        raise ValueError(f"bits must be 8 or 16, got {bits}")
    from ._inputs import as_integer

    if max_workers is not None:
        max_workers = as_integer(max_workers, "max_workers", 0)
    _check_options(method, options)
    image_files = _list_files(images, "images")
    if not image_files:
        raise ValueError(f"images: no image files found in {images}")
    trimap_files = _list_files(trimaps, "trimaps")
    if out_dir is None:
        raise ValueError("out_dir is required, got None")
    out_dir = Path(out_dir)
    inputs = {path.resolve() for path in image_files + trimap_files}
    outputs = {out_dir.resolve() / f"{path.stem}.png" for path in image_files}
    clashing = sorted(str(path) for path in outputs & inputs)
    if clashing:
        # The mattes STEM.png would overwrite these inputs, or (without overwrite) be taken
        # for finished outputs and skipped.
        raise ValueError(
            f"out_dir {out_dir} holds input files the mattes would replace ({clashing[0]}"
            f"{', ...' if len(clashing) > 1 else ''}); choose another folder"
        )
    _check_settings(out_dir, method, options, bits, overwrite)
    out_dir.mkdir(parents=True, exist_ok=True)
    _write_settings(out_dir, method, options, bits)

    cores = os.cpu_count() or 1
    workers = cores if max_workers is None else int(max_workers)
    jobs = _pair(
        image_files,
        trimap_files,
        out_dir,
        method=method,
        options=dict(options),
        bits=bits,
        numba_threads=max(1, cores // workers) if scheduler is None and workers else 0,
    )
    start = time.perf_counter()
    records: dict[int, Record] = {}
    to_run = []
    for job in jobs:
        if not overwrite and not job.pairing_error and _output_is_complete(job):
            records[job.index] = Record(Path(job.image).name, "skipped", 0.0, job.output)
        else:
            to_run.append(job)
    _remove_stale_temporaries(out_dir, (Path(job.output).stem for job in to_run))

    bar = _Progress(len(to_run), sys.stderr, progress)

    def report(job: _Job, record: Record) -> None:
        records[job.index] = record
        bar.update(record)

    # Pairing failures need no worker.
    for job in [job for job in to_run if job.pairing_error]:
        report(job, _process(job))
    runnable = [job for job in to_run if not job.pairing_error]
    if runnable:
        if scheduler is None and workers == 0:
            for job in runnable:
                report(job, _process(job))
        elif scheduler is None:
            _run_local(runnable, workers, report)
        else:
            _run_dask(runnable, scheduler, report)

    result = BatchResult([records[job.index] for job in jobs], out_dir / SUMMARY_NAME)
    _write_summary(result.records, result.summary_path)
    if progress:
        _print_report(result, time.perf_counter() - start, sys.stdout)
    return result


# --------------------------------------------------------------------------------------------
# Command line: `matting batch`
# --------------------------------------------------------------------------------------------


def _batch_command(arguments: argparse.Namespace) -> int:
    """Run ``matting batch`` from parsed arguments; returns the exit status."""
    from .cli import parse_options

    try:
        options = parse_options(arguments.option)
        result = run(
            arguments.images,
            arguments.trimaps,
            arguments.out,
            arguments.method,
            scheduler=arguments.scheduler,
            max_workers=arguments.workers,
            bits=arguments.bits,
            overwrite=arguments.overwrite,
            progress=not arguments.quiet,
            **options,
        )
    except (ValueError, OSError, ImportError) as error:
        # One line, like the other ``matting`` commands' user mistakes.
        print(f"matting: error: {error}", file=sys.stderr)
        return 1
    return result.exit_status


def add_batch_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``batch`` subcommand to an argparse ``subparsers`` object.

    The parsed namespace's ``func`` (also set as ``run``) takes the namespace and returns the
    exit status: 0 when every image has a matte, 1 when some failed or for a mistake in the
    arguments (an unknown method, a missing folder), reported in one line.
    """
    parser = subparsers.add_parser(
        "batch",
        help="matte every image of a folder, locally or on a Dask cluster",
        description=(
            "Matte every image in IMAGES with the trimap of the same file stem in --trimaps, "
            "writing STEM.png alpha mattes and summary.csv to --out. Images already done are "
            "skipped, so an interrupted batch resumes; failures are listed at the end and the "
            "exit status is 1 if any image failed."
        ),
    )
    parser.add_argument("images", help="folder of images")
    parser.add_argument("--trimaps", required=True, help="folder of trimaps (same file stems)")
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument(
        "-m", "--method", default="closed_form", help="matting method (default: %(default)s)"
    )
    parser.add_argument(
        "--scheduler",
        default=None,
        help="Dask scheduler address (tcp://host:port) to run on; default: local processes",
    )
    parser.add_argument(
        "--workers", type=int, default=None, help="local worker processes (default: cores)"
    )
    parser.add_argument("--bits", type=int, choices=(8, 16), default=8, help="matte bit depth")
    parser.add_argument("--overwrite", action="store_true", help="recompute existing outputs")
    parser.add_argument(
        "-p",
        "--option",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a method option, e.g. -p radius=2 -p solver=ichol (repeatable)",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress or table")
    # ``func`` is what the command line calls; ``run`` too, for a dispatcher using that name.
    parser.set_defaults(func=_batch_command, run=_batch_command)
    return parser


def main(argv: list[str] | None = None) -> int:
    """``python -m matting.batch IMAGES --trimaps DIR --out DIR``: the batch command alone."""
    parser = argparse.ArgumentParser(prog="matting")
    add_batch_parser(parser.add_subparsers(dest="command", required=True))
    arguments = parser.parse_args(["batch", *(sys.argv[1:] if argv is None else argv)])
    return arguments.func(arguments)


if __name__ == "__main__":
    raise SystemExit(main())
