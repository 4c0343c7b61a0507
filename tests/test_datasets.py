import numpy as np
import pytest

import matting
from matting.datasets import SAMPLE_SHAPE, load_sample, synthetic_composite


@pytest.fixture(scope="module")
def case():
    return synthetic_composite((80, 100), seed=3)


def test_image_is_the_exact_composite(case):
    weight = case.alpha[..., None]
    expected = weight * case.foreground + (1 - weight) * case.background
    np.testing.assert_array_equal(case.image, expected)
    assert case.image.min() >= 0 and case.image.max() <= 1


def test_alpha_is_non_trivial(case):
    soft = (case.alpha > 0) & (case.alpha < 1)
    assert soft.sum() > 0.02 * case.alpha.size
    assert (case.alpha == 1).sum() > 0.05 * case.alpha.size
    assert (case.alpha == 0).sum() > 0.3 * case.alpha.size
    # Thin strands give isolated partial pixels with low coverage; glass gives mid values.
    assert ((case.alpha > 0) & (case.alpha < 0.3)).sum() > 50
    assert ((case.alpha > 0.3) & (case.alpha < 0.7)).sum() > 50


def test_trimap_is_consistent_with_alpha(case):
    assert np.all(case.alpha[case.trimap == 1] == 1)
    assert np.all(case.alpha[case.trimap == 0] == 0)
    soft = (case.alpha > 0) & (case.alpha < 1)
    assert np.all(case.trimap[soft] == 0.5)


def test_generator_is_deterministic_and_seeded():
    first = synthetic_composite((40, 50), seed=7)
    again = synthetic_composite((40, 50), seed=7)
    other = synthetic_composite((40, 50), seed=8)
    np.testing.assert_array_equal(first.image, again.image)
    np.testing.assert_array_equal(first.trimap, again.trimap)
    assert not np.array_equal(first.alpha, other.alpha)


def test_generator_accepts_arrays_and_checks_arguments():
    background = np.full((10, 10, 3), 0.25)
    case = synthetic_composite((30, 40), background=background)
    np.testing.assert_allclose(case.background, 0.25)
    with pytest.raises(ValueError, match="background must be one of"):
        synthetic_composite((30, 40), background="nonexistent")
    with pytest.raises(ValueError, match="at least"):
        synthetic_composite((8, 40))


def test_shipped_sample_is_the_generator_output_in_8_bits():
    image, trimap, alpha = load_sample()
    reference = synthetic_composite(SAMPLE_SHAPE, seed=0)
    assert np.abs(image - reference.image).max() <= 0.5 / 255 + 1e-12
    assert np.abs(alpha - reference.alpha).max() <= 0.5 / 255 + 1e-12
    np.testing.assert_array_equal(trimap, reference.trimap)


# --- synthetic dataset and the alphamatting.com layout -------------------------------------


def test_synthetic_dataset_is_reproducible_and_varied():
    first = matting.datasets.synthetic_dataset(3, (32, 40), seed=5)
    second = matting.datasets.synthetic_dataset(3, (32, 40), seed=5)
    assert len(first) == 3
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a.image, b.image)
        np.testing.assert_array_equal(a.alpha, b.alpha)
        np.testing.assert_allclose(
            a.image, a.alpha[..., None] * a.foreground + (1 - a.alpha[..., None]) * a.background
        )
    assert not np.array_equal(first[0].image, first[1].image)
    with pytest.raises(ValueError, match="n must be"):
        matting.datasets.synthetic_dataset(0)


def test_alphamatting_layout_round_trips_through_the_loader(tmp_path):
    composites = matting.datasets.synthetic_dataset(2, (24, 30), seed=1)
    written = matting.datasets.write_alphamatting_layout(tmp_path, composites)
    assert (tmp_path / "input_training_lowres" / "GT01.png").exists()
    assert (tmp_path / "trimap_training_lowres" / "Trimap2" / "GT02.png").exists()
    dataset = matting.datasets.alphamatting(tmp_path, trimap=2)
    assert len(dataset) == len(written) == 2 and dataset.names == ["GT01", "GT02"]
    sample = dataset["GT02"]
    assert sample.name == "GT02"
    # 8-bit PNGs: equal to the composite up to rounding.
    np.testing.assert_allclose(sample.image, composites[1].image, atol=0.5 / 255 + 1e-12)
    np.testing.assert_allclose(sample.alpha, composites[1].alpha, atol=0.5 / 255 + 1e-12)
    np.testing.assert_array_equal(sample.trimap, composites[1].trimap)
    assert [s.name for s in dataset] == ["GT01", "GT02"] and dataset[-1].name == "GT02"
    assert "2 images" in repr(dataset)
    with pytest.raises(KeyError, match="GT09"):
        dataset["GT09"]


def test_alphamatting_without_ground_truth_gives_none(tmp_path):
    composites = matting.datasets.synthetic_dataset(1, (24, 30))
    matting.datasets.write_alphamatting_layout(tmp_path, composites)
    (tmp_path / "gt_training_lowres" / "GT01.png").unlink()
    assert matting.datasets.alphamatting(tmp_path)[0].alpha is None


def test_alphamatting_bad_arguments_are_named(tmp_path):
    with pytest.raises(ValueError, match="input_training_lowres"):
        matting.datasets.alphamatting(tmp_path)
    with pytest.raises(ValueError, match="resolution"):
        matting.datasets.alphamatting(tmp_path, resolution="medium")
    with pytest.raises(ValueError, match="trimap"):
        matting.datasets.alphamatting(tmp_path, trimap=3)
    with pytest.raises(ValueError, match="lowres"):
        matting.datasets.alphamatting(tmp_path, resolution="highres", download=True)


def _fake_archives(tmp_path, monkeypatch, corrupt=None):
    """Serve zip archives in the official layout from file:// URLs with their checksums."""
    import hashlib
    import zipfile

    source = tmp_path / "source"
    matting.datasets.write_alphamatting_layout(
        source, matting.datasets.synthetic_dataset(2, (20, 24))
    )
    archives = {}
    for name in matting.datasets.ALPHAMATTING_ARCHIVES:
        path = tmp_path / f"{name}.zip"
        with zipfile.ZipFile(path, "w") as archive:
            for file in sorted((source / name).rglob("*.png")):
                archive.write(file, file.relative_to(source / name))
        payload = path.read_bytes()
        digest = hashlib.sha256(payload).hexdigest()
        if name == corrupt:
            digest = "0" * 64
        archives[name] = (path.as_uri(), len(payload), digest)
    monkeypatch.setattr(matting.datasets, "ALPHAMATTING_ARCHIVES", archives)
    return archives


def test_download_checks_checksums_unpacks_and_caches(tmp_path, monkeypatch):
    archives = _fake_archives(tmp_path, monkeypatch)
    root = tmp_path / "cache"
    dataset = matting.datasets.alphamatting(root, download=True)
    assert dataset.names == ["GT01", "GT02"] and dataset[0].alpha is not None
    assert sorted(p.name for p in root.iterdir()) == sorted(
        [*archives, *(f"{name}.zip" for name in archives)]
    )
    # A second call finds everything in place and fetches nothing.
    monkeypatch.setattr(
        matting.datasets,
        "ALPHAMATTING_ARCHIVES",
        {name: ("file:///nonexistent", 0, "") for name in archives},
    )
    assert len(matting.datasets.alphamatting(root, download=True)) == 2


def test_corrupt_download_is_refused_and_leaves_nothing(tmp_path, monkeypatch):
    _fake_archives(tmp_path, monkeypatch, corrupt="gt_training_lowres")
    root = tmp_path / "cache"
    with pytest.raises(OSError, match="corrupt"):
        matting.datasets.alphamatting(root, download=True)
    assert not (root / "gt_training_lowres").exists()
    assert not (root / "gt_training_lowres.zip").exists()
    assert not list(root.glob(".*"))


def test_default_data_folder_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("MATTING_DATA", str(tmp_path))
    assert matting.datasets.default_data_folder() == tmp_path
