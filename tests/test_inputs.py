import inspect

import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis.extra.numpy import arrays

import matting
from matting._inputs import as_alpha, as_color, as_image, as_trimap, image_and_trimap


def test_image_dtypes_are_scaled_to_unit_float():
    gray8 = np.array([[0, 255], [51, 102]], dtype=np.uint8)
    result = as_image(gray8)
    assert result.shape == (2, 2, 3) and result.dtype == np.float64
    assert result.flags.c_contiguous
    np.testing.assert_allclose(result[:, :, 1], [[0, 1], [0.2, 0.4]])
    assert as_image(np.full((2, 2, 3), 65535, np.uint16)).max() == 1.0
    assert as_image(np.eye(2, dtype=bool))[0, 0, 2] == 1.0
    np.testing.assert_array_equal(as_image(np.full((2, 2), 0.25, np.float32)), 0.25)


def test_rgba_drops_alpha_and_single_channel_is_gray():
    rgba = np.zeros((3, 4, 4), np.uint8)
    rgba[..., 0] = 255
    rgba[..., 3] = 7
    result = as_image(rgba)
    assert result.shape == (3, 4, 3)
    np.testing.assert_array_equal(result[..., 0], 1.0)
    np.testing.assert_array_equal(result[..., 1:], 0.0)
    np.testing.assert_array_equal(as_image(np.full((2, 2, 1), 0.5))[..., 2], 0.5)


def test_image_is_never_the_callers_array():
    image = np.full((4, 4, 3), 0.5)
    result = as_image(image)
    result[:] = 0
    assert np.all(image == 0.5)


@pytest.mark.parametrize(
    "bad, message",
    [
        (np.zeros((0, 5, 3)), "empty"),
        (np.zeros((4, 4, 2)), "HxWx3"),
        (np.zeros((4, 4, 3, 1)), "HxWx3"),
        (np.full((4, 4, 3), np.nan), "NaN"),
        (np.full((4, 4, 3), np.inf), "NaN or infinite"),
        (np.full((4, 4, 3), 2.0), r"\[0, 1\]"),
        (np.full((4, 4, 3), -0.1), r"\[0, 1\]"),
        (np.full((4, 4, 3), 200, np.int64), "uint8"),
        (np.full((4, 4, 3), 1 + 1j), "dtype"),
        (None, "required"),
        ("photo.png", "file name .*read_image"),
        ([[0.1, 0.2], [0.3]], "unequal length"),
        (np.ma.masked_array(np.zeros((4, 4, 3)), mask=True), "masked"),
    ],
)
def test_bad_images_raise_value_error(bad, message):
    with pytest.raises(ValueError, match=message):
        as_image(bad)


def test_trimap_encodings_normalise_to_three_values():
    uint8 = np.array([[0, 1, 128], [200, 254, 255]], np.uint8)
    np.testing.assert_array_equal(as_trimap(uint8), [[0, 0.5, 0.5], [0.5, 0.5, 1]])
    floats = np.array([[0.0, 0.3], [1.0, 0.999]])
    np.testing.assert_array_equal(as_trimap(floats), [[0, 0.5], [1, 0.5]])
    uint16 = np.array([[0, 65535, 30000]], np.uint16)
    np.testing.assert_array_equal(as_trimap(uint16), [[0, 1, 0.5]])


def test_rgb_trimap_is_reduced_and_differing_channels_refused():
    gray = np.array([[0, 128], [255, 255]], np.uint8)
    rgba = np.dstack([gray, gray, gray, np.full_like(gray, 255)])
    np.testing.assert_array_equal(as_trimap(rgba), [[0, 0.5], [1, 1]])
    coloured = np.dstack([gray, gray, 255 - gray])
    with pytest.raises(ValueError, match="channels that differ"):
        as_trimap(coloured)


def test_trimap_errors_name_the_problem():
    with pytest.raises(ValueError, match="boolean mask.*trimap_from_mask"):
        as_trimap(np.ones((3, 3), bool))
    with pytest.raises(ValueError, match=r"\(3, 3\).*\(4, 4\)"):
        as_trimap(np.zeros((3, 3)), (4, 4))
    with pytest.raises(ValueError, match="no foreground"):
        as_trimap(np.array([[0, 0.5]]))
    with pytest.raises(ValueError, match="no background"):
        as_trimap(np.array([[1, 0.5]]))
    with pytest.raises(ValueError, match="NaN"):
        as_trimap(np.array([[0, np.nan, 1]]))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        as_trimap(np.array([[0, 128.0, 255]]))
    with pytest.raises(ValueError, match="scribbles has no foreground"):
        as_trimap(np.array([[0, 0.5]]), name="scribbles")


def test_trimap_without_unknown_pixels_is_accepted():
    trimap = np.array([[0, 1], [1, 0]], np.uint8) * 255
    np.testing.assert_array_equal(as_trimap(trimap), [[0, 1], [1, 0]])


def test_trimap_input_is_not_modified():
    trimap = np.array([[0, 0.3, 1.0]])
    as_trimap(trimap)
    np.testing.assert_array_equal(trimap, [[0, 0.3, 1.0]])


def test_image_and_trimap_checks_shapes_together():
    with pytest.raises(ValueError, match=r"\(5, 5\) but the image is \(4, 4\)"):
        image_and_trimap(np.zeros((4, 4, 3)), np.zeros((5, 5)))
    image, trimap = image_and_trimap(
        np.zeros((2, 2), np.uint8), np.array([[0, 255], [9, 9]], np.uint8)
    )
    assert image.shape == (2, 2, 3) and trimap[1, 0] == 0.5


def test_alpha_and_colour():
    np.testing.assert_array_equal(as_alpha(np.array([[0, 255]], np.uint8)), [[0, 1]])
    with pytest.raises(ValueError, match="HxW"):
        as_alpha(np.zeros((2, 2, 3)))
    with pytest.raises(ValueError, match=r"\(2, 2\) but \(3, 3\)"):
        as_alpha(np.zeros((2, 2)), (3, 3))
    np.testing.assert_array_equal(as_color("white"), [1, 1, 1])
    np.testing.assert_array_equal(as_color(0.5), [0.5, 0.5, 0.5])
    np.testing.assert_allclose(as_color("#ff0000"), [1, 0, 0])
    with pytest.raises(ValueError, match="divide 8-bit"):
        as_color((255, 0, 0))
    with pytest.raises(ValueError, match="not a colour name"):
        as_color("not-a-colour")


def test_colour_is_a_copy():
    colour = np.array([0.1, 0.2, 0.3])
    as_color(colour)[0] = 1.0
    assert colour[0] == 0.1


@settings(max_examples=50, deadline=None)
@given(arrays(np.uint8, st.tuples(st.integers(1, 6), st.integers(1, 6))))
def test_any_uint8_trimap_follows_the_encoding(values):
    trimap = as_trimap(values, require_known=False)
    np.testing.assert_array_equal(trimap == 0, values == 0)
    np.testing.assert_array_equal(trimap == 1, values == 255)
    np.testing.assert_array_equal(trimap == 0.5, (values > 0) & (values < 255))


@settings(max_examples=50, deadline=None)
@given(
    arrays(
        np.float64,
        st.tuples(st.integers(1, 5), st.integers(1, 5), st.just(3)),
        elements=st.floats(0, 1),
    )
)
def test_float_images_in_range_pass_through_unchanged(values):
    np.testing.assert_array_equal(as_image(values), values)


def test_as_finite_accepts_real_numbers_and_names_the_argument_otherwise():
    from matting._inputs import as_finite

    assert as_finite(np.float32(0.5), "eps") == 0.5 and isinstance(as_finite(2, "eps"), float)
    assert as_finite(0, "weight", positive=False) == 0.0
    for bad in (0, -1.0, np.nan, np.inf, True, "1", None):
        with pytest.raises(ValueError, match="eps must be a finite positive number"):
            as_finite(bad, "eps")
    with pytest.raises(ValueError, match="weight must be a finite number >= 0"):
        as_finite(-1e-9, "weight", positive=False)


def test_as_integer_refuses_booleans_fractions_and_small_values():
    from matting._inputs import as_integer

    assert as_integer(np.int64(3), "radius") == 3 and as_integer(2, "n", 2) == 2
    for bad in (0, 1.0, True, "2", None):
        with pytest.raises(ValueError, match="radius must be a positive integer"):
            as_integer(bad, "radius")
    with pytest.raises(ValueError, match="n must be an integer >= 2"):
        as_integer(1, "n", 2)


def test_as_finite_limits_and_as_integer_upper_bound():
    from matting._inputs import MAX_INTEGER_OPTION, as_finite, as_integer

    assert as_finite(1e-100, "sigma", limits=(1e-100, 1e100)) == 1e-100
    for bad in (1e-200, 1e200):
        with pytest.raises(ValueError, match=r"sigma must be in \[1e-100, 1e\+100\]"):
            as_finite(bad, "sigma", limits=(1e-100, 1e100))
    assert as_integer(MAX_INTEGER_OPTION, "k") == MAX_INTEGER_OPTION
    with pytest.raises(ValueError, match="k must be at most"):
        as_integer(2**63, "k")
    with pytest.raises(ValueError, match="k must be a positive integer, got nan"):
        as_integer(float("nan"), "k")


def test_big_endian_integers_are_scaled_like_native_ones():
    native = np.array([[0, 65535], [13107, 26214]], dtype=np.uint16)
    swapped = native.astype(">u2")
    np.testing.assert_array_equal(as_image(swapped), as_image(native))
    np.testing.assert_array_equal(as_trimap(swapped), as_trimap(native))


def test_values_just_above_one_are_printed_as_such():
    image = np.full((2, 2, 3), 0.5)
    image[0, 0, 0] = 1.000001
    with pytest.raises(ValueError, match=r"1\.000001\]; expected values in \[0, 1\]$"):
        as_image(image)


def _switches(function):
    parameters = inspect.signature(function).parameters
    return [name for name, parameter in parameters.items() if isinstance(parameter.default, bool)]


@pytest.mark.parametrize("name", sorted(matting.METHODS))
def test_every_switch_refuses_text_and_numbers(name):
    # "no" is a non-empty string, so it used to count as True: closed_form(...,
    # return_foreground="no") returned three arrays.
    image = np.random.default_rng(0).random((12, 12, 3))
    trimap = np.full((12, 12), 0.5)
    trimap[:, :3], trimap[:, -3:] = 0.0, 1.0
    function = matting.METHODS[name].function
    switches = _switches(function)
    assert switches
    for switch in switches:
        for bad in ("no", 1, None):
            with pytest.raises(ValueError, match=f"{switch} must be True or False"):
                function(image, trimap, **{switch: bad})
