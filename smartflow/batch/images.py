"""The built-in image preprocessing of batch jobs, named ``"smartflow.batch.images:preprocess"``.

A job ships its keyword arguments to task managers as JSON, so every option takes plain JSON
values: lists where tuples are natural, dtype names as strings.
"""

from __future__ import annotations

import io
import math
import numbers
from collections.abc import Sequence

import numpy as np
from PIL import Image

from smartflow._checks import choice
from smartflow.errors import InvalidArgumentError, SmartflowError, UnsupportedTypeError

#: Pillow modes :func:`preprocess` converts images to.
MODES = ("1", "L", "LA", "P", "RGB", "RGBA", "RGBX", "CMYK", "YCbCr", "LAB", "HSV", "I", "F")
LAYOUTS = ("CHW", "HWC")

# What Pillow raises for bytes that are not a (whole) image: UnidentifiedImageError and
# truncation are OSErrors, some decoders raise ValueError, SyntaxError or EOFError.
_DECODE_ERRORS = (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError)


class PreprocessError(SmartflowError):
    """One input could not be preprocessed: bytes that are not a decodable image, an array
    that is not an image. The job turns it into that input's error record."""


def preprocess(
    data: bytes | np.ndarray,
    *,
    size: Sequence[int] | None = None,
    mode: str = "RGB",
    mean: float | Sequence[float] = 0.0,
    std: float | Sequence[float] = 1.0,
    scale: float = 1 / 255,
    layout: str = "CHW",
    dtype: str = "float32",
) -> np.ndarray:
    """One image as a model input: ``(pixels * scale - mean) / std`` in ``layout``.

    ``data`` is encoded image bytes (any format Pillow reads), decoded and converted to
    ``mode`` (``"RGB"``: 3 channels, ``"L"``: 1), or an array taken as an already decoded
    ``(H, W, C)`` or ``(H, W)`` image (``mode`` does not apply to it; its channels are kept).
    ``size`` is ``(height, width)``, resized to with bilinear filtering; None keeps the size.
    ``mean`` and ``std`` are scalars or one value per channel. ``layout`` is ``"CHW"`` (a
    one-channel image gives ``(1, H, W)``) or ``"HWC"``; ``dtype`` names a numpy numeric type.

    Raises :class:`PreprocessError` for data that is not an image (chained from Pillow's
    error), :class:`~smartflow.errors.InvalidArgumentError` /
    :class:`~smartflow.errors.UnsupportedTypeError` for bad options."""
    size = _size(size)
    mode = choice(mode, "mode", MODES)
    layout = choice(layout, "layout", LAYOUTS)
    out_dtype = _dtype(dtype)
    scale = _number(scale, "scale")
    mean_arr = _per_channel(mean, "mean")
    std_arr = _per_channel(std, "std")
    if np.any(std_arr == 0):
        raise InvalidArgumentError(f"std must not be 0, got {std!r}")

    work = np.float64 if out_dtype == np.float64 else np.float32
    pixels = _pixels(data, mode).astype(work, copy=False)  # (H, W, C)
    if size is not None:
        pixels = _resize(pixels, size)
    channels = pixels.shape[2]
    for name, values in (("mean", mean_arr), ("std", std_arr)):
        if values.size not in (1, channels):
            raise InvalidArgumentError(
                f"{name} has {values.size} values but the image has {channels} channel(s)"
            )
    pixels = (pixels * work(scale) - mean_arr.astype(work)) / std_arr.astype(work)
    if layout == "CHW":
        pixels = pixels.transpose(2, 0, 1)
    return np.ascontiguousarray(pixels, dtype=out_dtype)


# -- options ------------------------------------------------------------------------------------


def _size(size: object) -> tuple[int, int] | None:
    if size is None:
        return None
    rule = "size must be [height, width] (two ints >= 1) or None"
    if isinstance(size, np.ndarray):
        size = size.tolist()
    if not isinstance(size, list | tuple) or len(size) != 2:
        raise UnsupportedTypeError(f"{rule}, got {size!r}")
    if not all(isinstance(n, numbers.Integral) and not isinstance(n, bool) for n in size):
        raise UnsupportedTypeError(f"{rule}, got {size!r}")
    if not all(n >= 1 for n in size):
        raise InvalidArgumentError(f"{rule}, got {size!r}")
    return int(size[0]), int(size[1])


def _dtype(dtype: object) -> np.dtype:
    try:
        result = np.dtype(dtype)  # type: ignore[call-overload]
    except TypeError as exc:
        raise UnsupportedTypeError(f"dtype must name a numpy type, got {dtype!r}") from exc
    if result.kind not in "fiu":
        raise InvalidArgumentError(f"dtype must be a float or int type, got {dtype!r}")
    return result


def _number(value: object, what: str) -> float:
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise UnsupportedTypeError(f"{what} must be a number, got {type(value).__name__}")
    if not math.isfinite(value):
        raise InvalidArgumentError(f"{what} must be finite, got {value!r}")
    return float(value)


def _per_channel(value: object, what: str) -> np.ndarray:
    """A scalar or a list of numbers, as a 1-D array (which broadcasts over H, W, C)."""
    if isinstance(value, np.ndarray):
        value = value.ravel().tolist()
    values = value if isinstance(value, list | tuple) else [value]
    if not values:
        raise InvalidArgumentError(f"{what} must be a number or a non-empty list of numbers")
    return np.array([_number(v, what) for v in values], dtype=np.float64)


# -- pixels -------------------------------------------------------------------------------------


def _pixels(data: object, mode: str) -> np.ndarray:
    """The image as an (H, W, C) array of its own dtype."""
    if isinstance(data, np.ndarray):
        return _array_pixels(data)
    if not isinstance(data, bytes | bytearray | memoryview):
        raise PreprocessError(
            f"an image is encoded bytes or an (H, W[, C]) array, not {type(data).__name__}"
        )
    try:
        with Image.open(io.BytesIO(data)) as image:
            pixels = np.asarray(image.convert(mode))
    except _DECODE_ERRORS as exc:
        raise PreprocessError(
            f"cannot decode {len(data)} bytes as an image: {type(exc).__name__}: {exc}"
        ) from exc
    return pixels[:, :, np.newaxis] if pixels.ndim == 2 else pixels


def _array_pixels(data: np.ndarray) -> np.ndarray:
    if data.ndim not in (2, 3) or data.dtype.kind not in "biuf" or 0 in data.shape:
        raise PreprocessError(
            f"an image array is a non-empty (H, W) or (H, W, C) array of numbers, got "
            f"shape {data.shape} dtype {data.dtype}"
        )
    return data[:, :, np.newaxis] if data.ndim == 2 else data


def _resize(pixels: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Bilinear resize to (height, width), one channel at a time in Pillow's float mode "F",
    so that bytes and arrays of any dtype are resized the same way and without rounding."""
    height, width = size
    if pixels.shape[:2] == (height, width):
        return pixels
    planes = [
        np.asarray(
            Image.fromarray(np.ascontiguousarray(pixels[:, :, c], dtype=np.float32)).resize(
                (width, height), Image.Resampling.BILINEAR
            )
        )
        for c in range(pixels.shape[2])
    ]
    return np.stack(planes, axis=2).astype(pixels.dtype, copy=False)


__all__ = ["LAYOUTS", "MODES", "PreprocessError", "preprocess"]
