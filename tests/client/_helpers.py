"""Helpers shared by the client tests."""

from __future__ import annotations

import numpy as np
import redis.asyncio as aioredis

from tests._support import host_port

# host_port is shared beyond the client: it lives in tests/_support.py.
__all__ = ["assert_fresh_array", "host_port", "sample", "snapshot"]


async def snapshot(r: aioredis.Redis) -> dict[bytes, bytes]:
    """Every key of the store with its serialised value (DUMP), to prove nothing changed."""
    return {key: await r.dump(key) for key in await r.keys("*")}


def sample(shape: tuple[int, ...] = (3, 4), dtype: str = "f8", seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    dtype_ = np.dtype(dtype)
    if dtype_.kind == "b":
        return rng.integers(0, 2, size=shape).astype(dtype_)
    if dtype_.kind in "iu":
        info = np.iinfo(dtype_)
        return rng.integers(
            info.min, info.max, size=shape, dtype=dtype_.newbyteorder("="), endpoint=True
        ).astype(dtype_)
    if dtype_.kind == "c":
        return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dtype_)
    return (rng.standard_normal(shape) * 100).astype(dtype_)


def assert_fresh_array(result: np.ndarray, original: np.ndarray) -> None:
    """Same dtype, shape and values, and an array the caller can use as its own."""
    assert isinstance(result, np.ndarray)
    assert result.dtype == original.dtype
    assert result.shape == original.shape
    np.testing.assert_array_equal(result, original)
    assert result.flags.writeable
    assert result.flags.c_contiguous
    assert result.flags.aligned
    assert result.ctypes.data % 16 == 0
