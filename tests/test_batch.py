"""matting.batch: many images, local processes or a Dask cluster, nothing lost, nothing redone."""

import argparse
import csv
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import matting
from matting.batch import add_batch_parser, run
from matting.datasets import synthetic_composite

SHAPE = (48, 64)


def _write_case(folder: Path, name: str, seed: int, shape=SHAPE):
    case = synthetic_composite(shape, seed=seed, n_strands=4)
    (folder / "images").mkdir(exist_ok=True)
    (folder / "trimaps").mkdir(exist_ok=True)
    matting.save_image(folder / "images" / f"{name}.png", case.image)
    matting.save_image(folder / "trimaps" / f"{name}.png", case.trimap)
    return case


def _expected_alpha(folder: Path, name: str, **options) -> np.ndarray:
    """What the batch should write: the method on the files as read, rounded to 8 bits."""
    image = matting.read_image(folder / "images" / f"{name}.png")
    trimap = matting.read_trimap(folder / "trimaps" / f"{name}.png")
    return np.round(matting.closed_form(image, trimap, **options) * 255)


def _written(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path), dtype=np.float64)


def _summary(out: Path) -> dict[str, dict]:
    with open(out / "summary.csv", newline="") as handle:
        return {row["image"]: row for row in csv.DictReader(handle)}


@pytest.fixture
def folder(tmp_path):
    """Two good cases, an unreadable image, an image without trimap, a trimap of another size
    and two images with one stem."""
    for seed, name in enumerate(["a", "b"]):
        _write_case(tmp_path, name, seed)
    images, trimaps = tmp_path / "images", tmp_path / "trimaps"
    (images / "broken.png").write_bytes(b"not a png")
    (trimaps / "broken.png").write_bytes(b"not a png either")
    case = synthetic_composite(SHAPE, seed=3, n_strands=4)
    matting.save_image(images / "orphan.png", case.image)
    matting.save_image(images / "mismatch.png", case.image)
    matting.save_image(trimaps / "mismatch.png", case.trimap[:, :40])
    matting.save_image(images / "a.jpg", case.image)  # same stem as a.png: same output name
    (images / "notes.txt").write_text("not an image: ignored")
    return tmp_path


def test_good_images_are_matted_and_bad_ones_reported_by_name(folder, capsys):
    out = folder / "out"
    result = run(folder / "images", folder / "trimaps", out, "closed_form", max_workers=1)

    statuses = {record.image: record.status for record in result.records}
    # Sorted by name, a.jpg comes first and owns the output a.png; a.png is the duplicate.
    assert statuses == {
        "a.jpg": "ok",
        "a.png": "failed",
        "b.png": "ok",
        "broken.png": "failed",
        "mismatch.png": "failed",
        "orphan.png": "failed",
    }
    assert result.exit_status == 1
    errors = {record.image: record.error for record in result.failed}
    assert "cannot read" in errors["broken.png"]
    assert "no trimap" in errors["orphan.png"]
    assert "64x48" in errors["mismatch.png"] and "40x48" in errors["mismatch.png"]
    assert "a.jpg" in errors["a.png"]

    np.testing.assert_array_equal(_written(out / "b.png"), _expected_alpha(folder, "b"))
    assert sorted(path.name for path in out.iterdir()) == [
        ".matting_batch_settings",
        "a.png",
        "b.png",
        "summary.csv",
    ]

    summary = _summary(out)
    assert set(summary) == set(statuses)
    assert summary["b.png"]["status"] == "ok" and float(summary["b.png"]["seconds"]) > 0
    assert "no trimap" in summary["orphan.png"]["error"]
    printed = capsys.readouterr().out
    assert "failed:" in printed and "orphan.png: ValueError: no trimap" in printed


def test_rerun_skips_complete_outputs_and_redoes_damaged_ones(tmp_path):
    for seed, name in enumerate(["a", "b", "c"]):
        _write_case(tmp_path, name, seed)
    out = tmp_path / "out"
    first = run(tmp_path / "images", tmp_path / "trimaps", out, max_workers=0, progress=False)
    assert [record.status for record in first.records] == ["ok"] * 3 and first.exit_status == 0

    # a.png: truncated by something else; c.png: deleted; b.png: intact, must not be rewritten.
    data = (out / "a.png").read_bytes()
    (out / "a.png").write_bytes(data[: len(data) // 2])
    (out / "c.png").unlink()
    untouched = (out / "b.png").stat().st_mtime_ns
    second = run(tmp_path / "images", tmp_path / "trimaps", out, max_workers=0, progress=False)
    assert [record.status for record in second.records] == ["ok", "skipped", "ok"]
    assert (out / "b.png").stat().st_mtime_ns == untouched
    np.testing.assert_array_equal(_written(out / "a.png"), _expected_alpha(tmp_path, "a"))
    assert _summary(out)["b.png"]["status"] == "skipped"

    third = run(
        tmp_path / "images",
        tmp_path / "trimaps",
        out,
        max_workers=0,
        progress=False,
        overwrite=True,
        bits=16,
        eps=1e-5,
    )
    assert [record.status for record in third.records] == ["ok"] * 3
    sixteen_bit = np.asarray(Image.open(out / "b.png"), dtype=np.float64) / 65535
    expected = matting.closed_form(
        matting.read_image(tmp_path / "images" / "b.png"),
        matting.read_trimap(tmp_path / "trimaps" / "b.png"),
        eps=1e-5,
    )
    assert np.abs(sixteen_bit - expected).max() <= 0.5 / 65535 + 1e-12


def test_a_rerun_with_other_settings_is_refused_unless_overwriting(tmp_path):
    _write_case(tmp_path, "a", 0)
    images, trimaps, out = tmp_path / "images", tmp_path / "trimaps", tmp_path / "out"
    assert run(images, trimaps, out, max_workers=0, progress=False).exit_status == 0
    first = (out / "a.png").read_bytes()
    # The same settings resume (skip); others would take these mattes for their own.
    assert run(images, trimaps, out, max_workers=0, progress=False).skipped
    for changed in ({"method": "knn"}, {"bits": 16}, {"eps": 1e-5}):
        with pytest.raises(ValueError, match="made with other settings"):
            run(images, trimaps, out, max_workers=0, progress=False, **changed)
    assert (out / "a.png").read_bytes() == first
    result = run(images, trimaps, out, "knn", max_workers=0, progress=False, overwrite=True)
    assert result.exit_status == 0 and not result.skipped
    assert (out / "a.png").read_bytes() != first


def test_lists_of_files_are_paired_by_stem(tmp_path):
    _write_case(tmp_path, "a", 0)
    _write_case(tmp_path, "b", 1)
    images = [tmp_path / "images" / "b.png"]
    trimaps = sorted((tmp_path / "trimaps").iterdir())
    result = run(images, trimaps, tmp_path / "out", max_workers=0, progress=False)
    assert [(record.image, record.status) for record in result.records] == [("b.png", "ok")]
    assert not (tmp_path / "out" / "a.png").exists()


def test_bad_arguments_raise_before_any_work(tmp_path):
    _write_case(tmp_path, "a", 0)
    images, trimaps, out = tmp_path / "images", tmp_path / "trimaps", tmp_path / "out"
    with pytest.raises(ValueError, match="method must be one of .*closed_form"):
        run(images, trimaps, out, "no_such_method")
    with pytest.raises(ValueError, match="method must be one of"):
        run(images, trimaps, out, "save_image")  # a library function, not a method
    with pytest.raises(ValueError, match="method 'knn' has no option 'radius'"):
        run(images, trimaps, out, "knn", radius=2)
    with pytest.raises(ValueError, match="bits must be 8 or 16"):
        run(images, trimaps, out, bits=12)
    with pytest.raises(ValueError, match="max_workers"):
        run(images, trimaps, out, max_workers=-1)
    with pytest.raises(ValueError, match="images must be a folder"):
        run(tmp_path / "missing", trimaps, out)
    with pytest.raises(ValueError, match="max_workers must be an integer >= 0, got inf"):
        run(images, trimaps, out, max_workers=float("inf"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no image files found"):
        run(tmp_path / "empty", trimaps, out)
    assert not out.exists()
    # Mattes written into the images' or the trimaps' folder would replace them (or, without
    # overwrite, be taken for finished outputs and skipped).
    before = (images / "a.png").read_bytes(), (trimaps / "a.png").read_bytes()
    for folder in (images, trimaps):
        with pytest.raises(ValueError, match="holds input files the mattes would replace"):
            run(images, trimaps, folder, overwrite=True)
    assert ((images / "a.png").read_bytes(), (trimaps / "a.png").read_bytes()) == before


def _cli(argv: list[str]) -> int:
    """The batch command through a throwaway parser, as the ``matting`` command wires it."""
    parser = argparse.ArgumentParser(prog="matting")
    add_batch_parser(parser.add_subparsers(dest="command", required=True))
    arguments = parser.parse_args(argv)
    return arguments.func(arguments)


def test_command_line_exit_status_and_options(folder, capsys):
    out = folder / "out"
    argv = ["batch", str(folder / "images"), "--trimaps", str(folder / "trimaps")]
    assert _cli([*argv, "--out", str(out), "--workers", "0", "-p", "eps=1e-5", "-q"]) == 1
    assert capsys.readouterr().out == ""
    np.testing.assert_array_equal(_written(out / "b.png"), _expected_alpha(folder, "b", eps=1e-5))

    for name in ("broken.png", "orphan.png", "mismatch.png", "a.png"):
        (folder / "images" / name).unlink()
    good = folder / "good"
    assert _cli([*argv, "--out", str(good), "--workers", "0", "-m", "closed_form"]) == 0
    assert "2 done, 0 skipped" in capsys.readouterr().out

    assert _cli([*argv, "--out", str(good), "-m", "nope"]) == 1
    error = capsys.readouterr().err
    assert error.startswith("matting: error: method must be one of") and error.count("\n") == 1
    assert _cli([*argv, "--out", str(good), "-p", "not-an-option"]) == 1
    assert "NAME=VALUE" in capsys.readouterr().err


def _batch_in_a_process(tmp_path, n_images: int, workers: int):
    """Start ``python -m matting.batch`` on ``n_images`` new cases in a session of its own
    (so that killing the group reaches its workers, as Ctrl-C or the OOM killer would) and
    wait until its first matte appears. Returns the process, the output folder and the
    command's folder arguments."""
    names = [f"img{index}" for index in range(n_images)]
    for seed, name in enumerate(names):
        _write_case(tmp_path, name, seed, shape=(240, 320))
    out = tmp_path / "out"
    arguments = [
        str(tmp_path / "images"),
        "--trimaps",
        str(tmp_path / "trimaps"),
        "--out",
        str(out),
    ]
    command = [sys.executable, "-m", "matting.batch", *arguments, "--workers", str(workers)]
    process = subprocess.Popen([*command, "-q"], start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while not any(out.glob("img*.png")) and time.monotonic() < deadline:
            time.sleep(0.01)
    except BaseException:
        _kill_group(process)
        raise
    return process, out, arguments


def _kill_group(process) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


def test_killed_run_leaves_no_partial_output_and_resumes(tmp_path):
    names = [f"img{index}" for index in range(6)]
    process, out, arguments = _batch_in_a_process(tmp_path, len(names), workers=1)
    _kill_group(process)
    finished = sorted(path.name for path in out.glob("img*.png"))
    assert 1 <= len(finished) < len(names), "the kill should land mid-batch"
    assert not (out / "summary.csv").exists()
    for path in finished:  # whatever has its final name is complete
        assert Image.open(out / path).size == (320, 240)
    times = {name: (out / name).stat().st_mtime_ns for name in finished}

    # Resume in this process (the same code path, without a second interpreter's start-up).
    assert _cli(["batch", *arguments, "--workers", "0", "-q"]) == 0
    summary = _summary(out)
    assert {name for name, row in summary.items() if row["status"] == "skipped"} == set(finished)
    assert {name for name, row in summary.items() if row["status"] == "ok"} == {
        f"{name}.png" for name in names
    } - set(finished)
    assert all((out / name).stat().st_mtime_ns == stamp for name, stamp in times.items())
    assert sorted(path.name for path in out.iterdir()) == sorted(
        [f"{name}.png" for name in names] + ["summary.csv", ".matting_batch_settings"]
    )
    np.testing.assert_array_equal(_written(out / "img5.png"), _expected_alpha(tmp_path, "img5"))


def test_a_worker_killed_mid_batch_loses_no_image(tmp_path):
    names = [f"img{index}" for index in range(4)]
    for seed, name in enumerate(names):
        _write_case(tmp_path, name, seed, shape=(240, 320))
    out = tmp_path / "out"
    before = {child.pid for child in multiprocessing.active_children()}
    outcome = {}

    def batch():
        outcome["result"] = run(
            tmp_path / "images", tmp_path / "trimaps", out, max_workers=1, progress=False
        )

    thread = threading.Thread(target=batch)
    thread.start()
    deadline = time.monotonic() + 120
    while not any(out.glob("img*.png")) and time.monotonic() < deadline:
        time.sleep(0.01)
    # What the system does when memory runs out: kill the worker process (ours, by its id).
    workers = [c for c in multiprocessing.active_children() if c.pid not in before]
    assert workers
    for worker in workers:
        os.kill(worker.pid, signal.SIGKILL)
    assert len(list(out.glob("img*.png"))) < len(names), "the kill should land mid-batch"
    thread.join(timeout=300)
    result = outcome["result"]
    assert [record.status for record in result.records] == ["ok"] * 4
    for name in names:
        assert Image.open(out / f"{name}.png").size == (320, 240)


def _children(pid: int) -> list[int]:
    """Process ids whose parent is ``pid`` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            # The command name, in parentheses, may hold spaces: the fields follow its end.
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def _running(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"  # a zombie has ended; only its exit status waits to be collected


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_workers_end_when_the_batch_process_is_killed(tmp_path):
    process, _, _ = _batch_in_a_process(tmp_path, 8, workers=2)
    try:
        workers = _children(process.pid)
        assert workers, "the batch should have started its worker processes"
        # Only the batch process, as `kill -9` of it or the out-of-memory killer would.
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        deadline = time.monotonic() + 30
        while any(map(_running, workers)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(map(_running, workers)), "workers outlived the batch process"
    finally:
        _kill_group(process)


def test_threads_of_one_worker_take_images_in_turn(tmp_path):
    # A Dask worker runs tasks in several threads. Under Numba's workqueue threading layer
    # (the fallback without OpenMP or TBB) two threads in parallel kernels at once end the
    # process; the batch must not let that happen.
    for index in range(2):
        _write_case(tmp_path, f"img{index}", index, shape=(120, 160))
    script = f"""
import threading
from pathlib import Path
from matting.batch import _Job, _process

folder = Path({str(tmp_path)!r})
jobs = [
    _Job(str(folder / "images" / f"img{{i % 2}}.png"),
         str(folder / "trimaps" / f"img{{i % 2}}.png"), str(folder / f"out{{i}}.png"), "knn",
         {{}}, 8)
    for i in range(4)
]
records = [None] * len(jobs)
def run(i):
    records[i] = _process(jobs[i])
threads = [threading.Thread(target=run, args=(i,)) for i in range(len(jobs))]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print([record.status for record in records])
"""
    environment = dict(os.environ, NUMBA_THREADING_LAYER="workqueue", NUMBA_NUM_THREADS="2")
    result = subprocess.run(
        [sys.executable, "-c", script],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == str(["ok"] * 4)


def test_every_compiled_kernel_releases_the_gil():
    # So that a batch worker's watcher thread can end it in the middle of a kernel, and so
    # that methods run side by side in threads (a Dask worker's, a user's thread pool).
    import importlib
    import pkgutil

    from numba.core.registry import CPUDispatcher

    kernels, holding = 0, []
    for module_info in pkgutil.walk_packages(matting.__path__, "matting."):
        if module_info.name.endswith("__main__"):  # runs the command line when imported
            continue
        module = importlib.import_module(module_info.name)
        for name, value in vars(module).items():
            if isinstance(value, CPUDispatcher) and value.__module__ == module.__name__:
                kernels += 1
                if not value.targetoptions.get("nogil"):
                    holding.append(f"{module.__name__}.{name}")
    assert kernels > 50  # the walk found them (64 when written)
    assert holding == []
    # Kernels defined inside functions or classes are no module attributes: read the source.
    import re

    decorator = re.compile(r"^\s*@(?:numba\.)?n?jit\b(.*)$")
    for path in Path(matting.__file__).parent.rglob("*.py"):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            match = decorator.match(line)
            if match and "nogil=True" not in match.group(1):
                holding.append(f"{path.name}:{number}")
    assert holding == []


# --------------------------------------------------------------------------------------------
# Dask: a real cluster of worker processes on this machine
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=1,
        processes=True,
        threads_per_worker=1,
        dashboard_address=None,
        host="127.0.0.1",
    ) as local_cluster:
        yield local_cluster


def test_dask_client_runs_the_batch_and_reports_failures(folder, cluster):
    from distributed import Client

    out = folder / "out"
    with Client(cluster, set_as_default=False) as client:
        result = run(folder / "images", folder / "trimaps", out, scheduler=client, progress=False)
    statuses = {record.image: record.status for record in result.records}
    assert statuses["b.png"] == statuses["a.jpg"] == "ok"
    assert statuses["broken.png"] == statuses["orphan.png"] == statuses["mismatch.png"] == "failed"
    assert result.exit_status == 1
    np.testing.assert_array_equal(_written(out / "b.png"), _expected_alpha(folder, "b"))


def test_command_line_against_a_scheduler_address(tmp_path, cluster):
    for seed, name in enumerate(["a", "b"]):
        _write_case(tmp_path, name, seed)
    (tmp_path / "images" / "c.png").write_bytes(b"garbage")
    out = tmp_path / "out"
    address = cluster.scheduler_address
    assert address.startswith("tcp://127.0.0.1:")
    argv = ["batch", str(tmp_path / "images"), "--trimaps", str(tmp_path / "trimaps")]
    # The installed command, in its own process, as a user would run it.
    command = [sys.executable, "-m", "matting", *argv, "--out", str(out), "--scheduler", address]
    finished = subprocess.run([*command, "-q"], check=False, capture_output=True, text=True)
    assert finished.returncode == 1, finished.stderr
    summary = _summary(out)
    assert [summary[name]["status"] for name in ("a.png", "b.png", "c.png")] == [
        "ok",
        "ok",
        "failed",
    ]
    # Resuming on the cluster recomputes nothing that is done.
    (tmp_path / "images" / "c.png").unlink()
    assert _cli([*argv, "--out", str(out), "--scheduler", address, "-q"]) == 0
    assert {row["status"] for row in _summary(out).values()} == {"skipped"}
    np.testing.assert_array_equal(_written(out / "a.png"), _expected_alpha(tmp_path, "a"))


def test_a_malformed_scheduler_address_fails_at_once(tmp_path):
    pytest.importorskip("distributed")
    _write_case(tmp_path, "a", 0)
    # Refused before a Client exists: one built on a bad address hangs a minute in its
    # finaliser.
    with pytest.raises(ValueError, match="scheduler 'garbage' is not a Dask address"):
        run(tmp_path / "images", tmp_path / "trimaps", tmp_path / "out", scheduler="garbage")


def test_python_dash_m_matting_batch(tmp_path):
    _write_case(tmp_path, "a", 0)
    (tmp_path / "images" / "b.png").write_bytes(b"garbage")
    out = tmp_path / "out"
    command = [sys.executable, "-m", "matting", "batch", str(tmp_path / "images")]
    command += ["--trimaps", str(tmp_path / "trimaps"), "--out", str(out), "--workers", "1"]
    finished = subprocess.run(command, check=False, capture_output=True, text=True)
    assert finished.returncode == 1
    assert "b.png: ValueError: no trimap named b" in finished.stdout
    assert _summary(out)["a.png"]["status"] == "ok"
