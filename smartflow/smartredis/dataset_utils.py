"""DatasetConverter: a Dataset's tensors as xarray DataArrays, with the metadata fields
SmartRedis uses for the purpose (``_xarray_data_names``, ``_xarray_<name>_dim_names``, ...).

xarray is optional: it is imported when a conversion needs it (``pip install xarray``).
"""

from __future__ import annotations

from typing import Any

from smartflow.smartredis.dataset import Dataset
from smartflow.smartredis.error import RedisRuntimeError
from smartflow.smartredis.util import typecheck

_NONE = "null"  # what a field holds when no names were given


class XarrayMissingError(RedisRuntimeError, ImportError):
    """xarray is not installed (SmartRedis raises a RedisRuntimeError; this is both)."""


def _xarray() -> Any:
    try:
        import xarray
    except ImportError as exc:
        raise XarrayMissingError(
            "DatasetConverter.transform_to_xarray needs the optional package xarray: "
            "run `pip install xarray`"
        ) from exc
    return xarray


def _names(value: Any, what: str, one: str, required: bool) -> list[str] | None:
    """A str or a list of non-empty strs, as a list; None when optional and not given."""
    if value is None and not required:
        return None
    listed = [value] if isinstance(value, str) else value
    typecheck(listed, what, list)
    for name in listed:
        typecheck(name, one, str)
        if not name:
            raise RedisRuntimeError(f"{what}: empty name")
    return listed


def _listed_fields(dataset: Dataset, data_name: str, kind: str) -> list[str]:
    """The metadata field names stored for ``data_name``'s dims, coords or attrs."""
    joined = dataset.get_meta_strings(f"_xarray_{data_name}_{kind}_names")[0]
    return [] if joined == _NONE else joined.split(",")


def _first_strings(dataset: Dataset, fields: list[str]) -> list[str]:
    return [dataset.get_meta_strings(field)[0] for field in fields]


class DatasetConverter:
    """Adds xarray metadata to a Dataset, and builds DataArrays from it."""

    @staticmethod
    def add_metadata_for_xarray(
        dataset: Dataset,
        data_names: str | list[str],
        dim_names: str | list[str],
        coord_names: str | list[str] | None = None,
        attr_names: str | list[str] | None = None,
    ) -> None:
        """Record, for each tensor in ``data_names``, the metadata fields naming its
        dimensions and attributes, and the tensors that are its coordinates."""
        typecheck(dataset, "dataset", Dataset)
        datas = _names(data_names, "data_names", "data_name", required=True)
        per_kind = {
            "dim_names": _names(dim_names, "dim_names", "dim_name", required=True),
            "coord_names": _names(coord_names, "coord_names", "coord_name", required=False),
            "attr_names": _names(attr_names, "attr_names", "attr_name", required=False),
        }
        for data_name in datas or []:
            dataset.add_meta_string("_xarray_data_names", data_name)
            for kind, names in per_kind.items():
                joined = ",".join(names) if names else _NONE
                dataset.add_meta_string(f"_xarray_{data_name}_{kind}", joined)

    @staticmethod
    def transform_to_xarray(dataset: Dataset) -> dict[str, Any]:
        """``{name: xarray.DataArray}`` for each recorded tensor that is not a coordinate
        of another."""
        xr = _xarray()
        typecheck(dataset, "dataset", Dataset)
        names = dataset.get_meta_strings("_xarray_data_names")
        coordinates = {
            name: [c for c in _listed_fields(dataset, name, "coord") if c in names and c != name]
            for name in names
        }
        used_as_coordinate = {c for listed in coordinates.values() for c in listed}
        arrays = {}
        for name in names:
            if name in used_as_coordinate:
                continue
            coords = {
                c: (
                    _first_strings(dataset, _listed_fields(dataset, c, "dim")),
                    dataset.get_tensor(c),
                    _attributes(dataset, c),
                )
                for c in coordinates[name]
            }
            arrays[name] = xr.DataArray(
                name=name,
                data=dataset.get_tensor(name),
                coords=coords or None,
                dims=_first_strings(dataset, _listed_fields(dataset, name, "dim")),
                attrs=_attributes(dataset, name),
            )
        return arrays


def _attributes(dataset: Dataset, name: str) -> dict[str, str]:
    fields = _listed_fields(dataset, name, "attr")
    return dict(zip(fields, _first_strings(dataset, fields), strict=True))
