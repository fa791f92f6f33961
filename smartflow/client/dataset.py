"""DataSet: named tensors and metadata fields that travel together, as in SmartRedis.

::

    ds = DataSet("step-7")
    ds.add_tensor("u", u)
    ds.add_meta_scalar("time", 0.7)
    ds.add_meta_string("mesh", "coarse")
    await client.put_dataset(ds)          # one value in the store, written in one round trip
    back = await client.get_dataset("step-7")
    back.get_meta_scalars("time")         # array([0.7])

A metadata field is a list: adding to a field appends. A field holds either numbers of one type
(float64, float32, int64, int32, uint64, uint32: SmartRedis's types) or strings. Pure: no I/O.
"""

from __future__ import annotations

import enum

import numpy as np

from smartflow._checks import checked_name
from smartflow.errors import InvalidArgumentError, KeyNotFoundError, UnsupportedTypeError
from smartflow.wire import codec


class MetaDataType(enum.Enum):
    """The type of a metadata field (SmartRedis's ``MetaDataType``)."""

    DOUBLE = "double"
    FLOAT = "float"
    INT64 = "int64"
    INT32 = "int32"
    UINT64 = "uint64"
    UINT32 = "uint32"
    STRING = "string"

    @property
    def dtype(self) -> np.dtype | None:
        """The numpy dtype of the field's values (None for strings)."""
        return _DTYPES.get(self)


_DTYPES = {
    MetaDataType.DOUBLE: np.dtype(np.float64),
    MetaDataType.FLOAT: np.dtype(np.float32),
    MetaDataType.INT64: np.dtype(np.int64),
    MetaDataType.INT32: np.dtype(np.int32),
    MetaDataType.UINT64: np.dtype(np.uint64),
    MetaDataType.UINT32: np.dtype(np.uint32),
}
_TYPE_OF_DTYPE = {dtype: kind for kind, dtype in _DTYPES.items()}


def _check_name(what: str, name: object) -> str:
    return checked_name(name, f"{what} name")


class DataSet:
    """Tensors and metadata under one name (see the module docstring)."""

    def __init__(self, name: str) -> None:
        self._name = _check_name("dataset", name)
        self._tensors: dict[str, np.ndarray] = {}
        self._scalars: dict[str, np.ndarray] = {}
        self._strings: dict[str, list[str]] = {}

    @property
    def name(self) -> str:
        """The dataset's name."""
        return self._name

    def get_name(self) -> str:
        """The dataset's name (SmartRedis spelling)."""
        return self._name

    def __repr__(self) -> str:
        """Its name, each tensor's name, dtype and shape, and each metadata field's name,
        type and number of values."""
        tensors = ", ".join(
            f"{name!r}: {array.dtype} {tuple(array.shape)}" for name, array in self._tensors.items()
        )
        fields = ", ".join(
            f"{name!r}: {self.get_metadata_field_type(name).value} x{len(values)}"
            for name, values in [*self._scalars.items(), *self._strings.items()]
        )
        return f"DataSet({self._name!r}, tensors={{{tensors}}}, metadata={{{fields}}})"

    def is_empty(self) -> bool:
        """True with no tensors and no metadata (such a dataset cannot be stored)."""
        return not (self._tensors or self._scalars or self._strings)

    # -- tensors ------------------------------------------------------------------------------

    def add_tensor(self, name: str, data: np.ndarray) -> None:
        """Add a copy of ``data`` under ``name``; a name already in the dataset is refused."""
        _check_name("tensor", name)
        if name in self._tensors:
            raise InvalidArgumentError(
                f"dataset {self._name!r} already has a tensor {name!r}; names must be unique"
            )
        checked = codec.as_storable(data, name=f"dataset {self._name!r} tensor {name!r}")
        self._tensors[name] = np.array(checked, order="C", copy=True)

    def get_tensor(self, name: str) -> np.ndarray:
        """The tensor added (or read from the store) under ``name``."""
        _check_name("tensor", name)
        try:
            return self._tensors[name]
        except KeyError:
            raise KeyNotFoundError(
                f"dataset {self._name!r} has no tensor {name!r} (it has {list(self._tensors)})"
            ) from None

    def get_tensor_names(self) -> list[str]:
        """The names of the tensors, in the order they were added."""
        return list(self._tensors)

    def get_tensor_type(self, name: str) -> np.dtype:
        """The numpy dtype of a tensor."""
        return self.get_tensor(name).dtype

    def get_tensor_dims(self, name: str) -> list[int]:
        """A tensor's shape, as a list."""
        return list(self.get_tensor(name).shape)

    # -- metadata -----------------------------------------------------------------------------

    def add_meta_scalar(self, name: str, scalar: int | float | np.number) -> None:
        """Append a number to the metadata field ``name`` (created with the number's type)."""
        _check_name("metadata field", name)
        if name in self._strings:
            raise InvalidArgumentError(f"metadata field {name!r} holds strings, not numbers")
        existing = self._scalars.get(name)
        value = _scalar_array(name, scalar, None if existing is None else existing.dtype)
        self._scalars[name] = value if existing is None else np.concatenate([existing, value])

    def add_meta_string(self, name: str, string: str) -> None:
        """Append a string to the metadata field ``name``."""
        _check_name("metadata field", name)
        if not isinstance(string, str):
            raise UnsupportedTypeError(
                f"metadata field {name!r}: add_meta_string takes a str, got {type(string).__name__}"
            )
        if name in self._scalars:
            raise InvalidArgumentError(f"metadata field {name!r} holds numbers, not strings")
        self._strings.setdefault(name, []).append(string)

    def get_meta_scalars(self, name: str) -> np.ndarray:
        """The numbers of a field, in the order they were added (a copy)."""
        _check_name("metadata field", name)
        if name in self._strings:
            raise InvalidArgumentError(
                f"metadata field {name!r} holds strings: use get_meta_strings"
            )
        return self._field(self._scalars, name).copy()

    def get_meta_strings(self, name: str) -> list[str]:
        """The strings of a field, in the order they were added."""
        _check_name("metadata field", name)
        if name in self._scalars:
            raise InvalidArgumentError(
                f"metadata field {name!r} holds numbers: use get_meta_scalars"
            )
        return list(self._field(self._strings, name))

    def get_metadata_field_names(self) -> list[str]:
        """The names of the metadata fields (numeric fields first)."""
        return [*self._scalars, *self._strings]

    def get_metadata_field_type(self, name: str) -> MetaDataType:
        """The type of a metadata field (``MetaDataType.STRING`` for strings)."""
        _check_name("metadata field", name)
        if name in self._strings:
            return MetaDataType.STRING
        return _TYPE_OF_DTYPE[self._field(self._scalars, name).dtype]

    def _field(self, fields: dict, name: str):  # type: ignore[no-untyped-def]
        try:
            return fields[name]
        except KeyError:
            raise KeyNotFoundError(
                f"dataset {self._name!r} has no metadata field {name!r} "
                f"(it has {self.get_metadata_field_names()})"
            ) from None

    # -- used by the codec --------------------------------------------------------------------

    def _contents(self) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict[str, list]]:
        return self._tensors, self._scalars, self._strings

    @classmethod
    def _restore(
        cls,
        name: str,
        tensors: dict[str, np.ndarray],
        scalars: dict[str, np.ndarray],
        strings: dict[str, list[str]],
    ) -> DataSet:
        dataset = cls(name)
        dataset._tensors, dataset._scalars, dataset._strings = tensors, scalars, strings
        return dataset


def _scalar_array(field: str, scalar: object, dtype: np.dtype | None) -> np.ndarray:
    """``scalar`` as a one-element array of the field's type (or of its own type, for a new
    field). A Python int joins any integer field it fits in, a Python float any float field;
    a numpy scalar must have the field's exact type."""
    if isinstance(scalar, bool | np.bool_) or not isinstance(scalar, int | float | np.number):
        raise UnsupportedTypeError(
            f"metadata field {field!r}: add_meta_scalar takes an int or float (or a numpy "
            f"float64/32, int64/32, uint64/32), got {type(scalar).__name__}"
        )
    if isinstance(scalar, np.number):
        own = scalar.dtype
    elif isinstance(scalar, int):
        own = dtype if dtype is not None and dtype.kind in "iu" else np.dtype(np.int64)
    else:
        own = dtype if dtype is not None and dtype.kind == "f" else np.dtype(np.float64)
    if own not in _TYPE_OF_DTYPE:
        raise UnsupportedTypeError(
            f"metadata field {field!r}: {own} is not a metadata type "
            "(float64, float32, int64, int32, uint64, uint32)"
        )
    if dtype is not None and own != dtype:
        raise InvalidArgumentError(
            f"metadata field {field!r} holds {dtype} values; {scalar!r} is {own}"
        )
    if isinstance(scalar, int) and not _fits(scalar, own):
        raise InvalidArgumentError(f"metadata field {field!r}: {scalar} does not fit in {own}")
    return np.array([scalar], dtype=own)


def _fits(value: int, dtype: np.dtype) -> bool:
    info = np.iinfo(dtype)
    return info.min <= value <= info.max
