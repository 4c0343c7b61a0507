import numpy as np
import pytest
from PIL import Image

import matting


def test_alpha_round_trips_at_8_and_16_bits(tmp_path):
    alpha = np.linspace(0, 1, 300).reshape(15, 20)
    matting.save_image(tmp_path / "a8.png", alpha)
    matting.save_image(tmp_path / "a16.png", alpha, bits=16)
    assert np.abs(matting.read_image(tmp_path / "a8.png")[:, :, 0] - alpha).max() <= 0.5 / 255
    back16 = matting.read_image(tmp_path / "a16.png")[:, :, 0]
    assert np.abs(back16 - alpha).max() <= 0.5 / 65535 + 1e-12
    assert np.abs(back16 - alpha).max() < 0.5 / 255 / 10  # really more precise than 8 bits


def test_rgb_and_rgba_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    rgba = rng.integers(0, 256, size=(6, 7, 4), dtype=np.uint8)
    matting.save_image(tmp_path / "rgba.png", rgba)
    stored = np.asarray(Image.open(tmp_path / "rgba.png"))
    np.testing.assert_array_equal(stored, rgba)
    np.testing.assert_array_equal(matting.read_image(tmp_path / "rgba.png"), rgba[..., :3] / 255)


def test_read_trimap_normalises_and_allows_scribble_maps(tmp_path):
    values = np.array([[0, 128, 255], [0, 100, 0]], np.uint8)
    Image.fromarray(values).save(tmp_path / "t.png")
    np.testing.assert_array_equal(
        matting.read_trimap(tmp_path / "t.png"), [[0, 0.5, 1], [0, 0.5, 0]]
    )
    Image.fromarray(np.dstack([values] * 3)).save(tmp_path / "rgb.png")
    np.testing.assert_array_equal(
        matting.read_trimap(tmp_path / "rgb.png"), matting.read_trimap(tmp_path / "t.png")
    )


def test_io_errors_are_clear(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        matting.read_image(tmp_path / "missing.png")
    (tmp_path / "junk.png").write_bytes(b"not an image")
    with pytest.raises(ValueError, match="cannot read"):
        matting.read_image(tmp_path / "junk.png")
    with pytest.raises(ValueError, match="gray images"):
        matting.save_image(tmp_path / "x.png", np.zeros((3, 3, 3)), bits=16)
    with pytest.raises(ValueError, match="bits"):
        matting.save_image(tmp_path / "x.png", np.zeros((3, 3)), bits=12)
    # Formats that would drop the alpha channel, scramble 16-bit values or resize are refused
    # (Pillow raises for some and silently converts for others).
    for name, array, bits in [
        ("x.jpg", np.zeros((3, 3, 4)), 8),
        ("x.bmp", np.zeros((3, 3, 4)), 8),
        ("x.webp", np.zeros((3, 3)), 16),
        ("x.gif", np.zeros((3, 3, 3)), 8),
        ("x.ico", np.zeros((3, 3)), 8),
        ("x", np.zeros((3, 3)), 8),
    ]:
        with pytest.raises(ValueError, match="without losing data; use .png or .tif"):
            matting.save_image(tmp_path / name, array, bits=bits)
    matting.save_image(tmp_path / "x.jpg", np.zeros((3, 3, 3)))  # 8-bit opaque: fine
    matting.save_image(tmp_path / "x.tif", np.zeros((3, 3)), bits=16)
    with pytest.raises(FileNotFoundError):  # the file system's errors stay its own
        matting.save_image(tmp_path / "missing" / "x.png", np.zeros((3, 3)))


def test_single_channel_images_save_as_gray(tmp_path):
    alpha = np.linspace(0, 1, 12).reshape(3, 4, 1)
    matting.save_image(tmp_path / "a.png", alpha, bits=16)
    assert Image.open(tmp_path / "a.png").mode.startswith("I")
    np.testing.assert_allclose(
        matting.read_image(tmp_path / "a.png")[:, :, 0], alpha[:, :, 0], atol=1e-5
    )


def test_read_alpha_takes_the_alpha_channel_or_gray_and_refuses_colour(tmp_path):
    alpha = np.linspace(0, 1, 12).reshape(3, 4)
    cutout = np.dstack([np.full((3, 4, 3), 0.8), alpha])
    matting.save_image(tmp_path / "cutout.png", cutout)
    np.testing.assert_allclose(matting.read_alpha(tmp_path / "cutout.png"), alpha, atol=1 / 255)
    matting.save_image(tmp_path / "matte.png", alpha, bits=16)
    np.testing.assert_allclose(matting.read_alpha(tmp_path / "matte.png"), alpha, atol=1e-4)
    colour = np.dstack([alpha, 1 - alpha, alpha])
    matting.save_image(tmp_path / "photo.png", colour)
    with pytest.raises(ValueError, match="colour image without an alpha channel"):
        matting.read_alpha(tmp_path / "photo.png")
