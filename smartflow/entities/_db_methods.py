"""``add_ml_model``, ``add_script`` and ``add_function``, shared by Model and Ensemble."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

from smartflow.entities.db_objects import (
    DBModel,
    DBObject,
    DBScript,
    db_function,
    db_model,
    db_script,
)


class DBObjectMethods:
    """The SmartSim calls that declare models and scripts to load into the entity's store
    when it starts; each checks its arguments now and refuses a name already declared."""

    __slots__ = ()

    db_models: list[DBModel]
    db_scripts: list[DBScript]

    def _add_db_object(self, obj: DBObject) -> None:
        raise NotImplementedError

    def add_ml_model(
        self,
        name: str,
        backend: str,
        model: bytes | None = None,
        model_path: str | os.PathLike[str] | None = None,
        device: str = "CPU",
        devices_per_node: int = 1,
        first_device: int = 0,
        batch_size: int = 0,
        min_batch_size: int = 0,
        min_batch_timeout: int = 0,
        tag: str = "",
        inputs: Sequence[str] | None = None,
        outputs: Sequence[str] | None = None,
    ) -> None:
        """Load an ML model (``backend="ONNX"``) into the store when this entity starts: from
        ``model`` bytes or the file ``model_path`` (read at start). ``device="GPU"`` with
        ``devices_per_node > 1`` stores one copy per GPU from ``first_device``
        (``<name>.GPU:<n>``, for ``run_model_multigpu``); ``batch_size`` and friends are as
        in ``Client.set_model``."""
        record = db_model(
            name, backend, model, model_path, device, devices_per_node, first_device,
            batch_size, min_batch_size, min_batch_timeout, tag, inputs, outputs,
        )  # fmt: skip
        self._add_db_object(record)

    def add_script(
        self,
        name: str,
        script: str | None = None,
        script_path: str | os.PathLike[str] | None = None,
        device: str = "CPU",
        devices_per_node: int = 1,
        first_device: int = 0,
    ) -> None:
        """Load a script (Python source defining functions over numpy arrays, run with
        ``run_script``) into the store when this entity starts: the ``script`` text, or the
        file ``script_path`` (read at start)."""
        self._add_db_object(
            db_script(name, script, script_path, device, devices_per_node, first_device)
        )

    def add_function(
        self,
        name: str,
        function: Callable | None = None,
        device: str = "CPU",
        devices_per_node: int = 1,
        first_device: int = 0,
    ) -> None:
        """Load ``function``'s source as the script ``name`` when this entity starts (as
        ``Client.set_function``); run it with ``run_script(name, function.__name__, ...)``.
        The source is read now; it may use ``np`` and what it defines itself."""
        self._add_db_object(db_function(name, function, device, devices_per_node, first_device))

    def _db_objects(self) -> list[DBObject]:
        return [*self.db_models, *self.db_scripts]

    def _append_db_object(self, obj: DBObject) -> None:
        if isinstance(obj, DBModel):
            self.db_models.append(obj)
        else:
            self.db_scripts.append(obj)
