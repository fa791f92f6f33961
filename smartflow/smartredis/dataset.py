"""Dataset: SmartRedis's spelling of smartflow's DataSet (tensors and metadata under one name)."""

from __future__ import annotations

import numpy as np

from smartflow.client import DataSet
from smartflow.smartredis.srobject import SRObject
from smartflow.smartredis.util import Dtypes, exception_handler, typecheck


class Dataset(SRObject):
    """Named tensors and metadata fields stored together; put with ``Client.put_dataset``."""

    def __init__(self, name: str) -> None:
        typecheck(name, "name", str)
        super().__init__(name)
        self._data = _new_dataset(name)

    def __str__(self) -> str:
        return repr(self._data)

    @staticmethod
    def from_pybind(dataset: DataSet) -> Dataset:
        """A Dataset over smartflow's ``dataset`` (SmartRedis builds it from its binding's)."""
        typecheck(dataset, "dataset", DataSet)
        wrapped = Dataset(dataset.get_name())
        wrapped.set_data(dataset)
        return wrapped

    @exception_handler
    def get_data(self) -> DataSet:
        """The smartflow DataSet behind this one."""
        return self._data

    @exception_handler
    def set_data(self, dataset: DataSet) -> None:
        """Use smartflow's ``dataset`` from now on."""
        typecheck(dataset, "dataset", DataSet)
        self._data = dataset

    @exception_handler
    def add_tensor(self, name: str, data: np.ndarray) -> None:
        """Add a copy of ``data`` under ``name`` (SmartRedis's tensor dtypes only)."""
        typecheck(name, "name", str)
        typecheck(data, "data", np.ndarray)
        Dtypes.tensor_from_numpy(data)
        self._data.add_tensor(name, data)

    @exception_handler
    def get_tensor(self, name: str) -> np.ndarray:
        typecheck(name, "name", str)
        return self._data.get_tensor(name)

    @exception_handler
    def get_name(self) -> str:
        return self._data.get_name()

    @exception_handler
    def add_meta_scalar(self, name: str, data: int | float | np.number) -> None:
        """Append one number to the field ``name``; its numpy type is the field's type."""
        typecheck(name, "name", str)
        as_array = np.asarray(data)
        if as_array.size != 1:
            raise TypeError("Argument provided is not a scalar")
        Dtypes.metadata_from_numpy(as_array)
        self._data.add_meta_scalar(name, as_array.reshape(-1)[0])

    @exception_handler
    def add_meta_string(self, name: str, data: str) -> None:
        typecheck(name, "name", str)
        typecheck(data, "data", str)
        self._data.add_meta_string(name, data)

    @exception_handler
    def get_meta_scalars(self, name: str) -> np.ndarray:
        typecheck(name, "name", str)
        return self._data.get_meta_scalars(name)

    @exception_handler
    def get_meta_strings(self, name: str) -> list[str]:
        typecheck(name, "name", str)
        return self._data.get_meta_strings(name)

    @exception_handler
    def get_metadata_field_names(self) -> list[str]:
        return self._data.get_metadata_field_names()

    @exception_handler
    def get_metadata_field_type(self, name: str) -> type:
        """The numpy type of a field's values (``str`` for strings)."""
        typecheck(name, "name", str)
        kind = self._data.get_metadata_field_type(name)
        return Dtypes.from_string(kind.value.upper())

    @exception_handler
    def get_tensor_type(self, name: str) -> type:
        """The numpy type of a tensor's elements."""
        typecheck(name, "name", str)
        array = self._data.get_tensor(name)
        return Dtypes.from_string(Dtypes.tensor_from_numpy(array))

    @exception_handler
    def get_tensor_names(self) -> list[str]:
        return self._data.get_tensor_names()

    @exception_handler
    def get_tensor_dims(self, name: str) -> list[int]:
        typecheck(name, "name", str)
        return self._data.get_tensor_dims(name)


@exception_handler
def _new_dataset(name: str) -> DataSet:
    return DataSet(name)
