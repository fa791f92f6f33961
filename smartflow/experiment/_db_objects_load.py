"""Loading the models and scripts entities declare (``add_ml_model`` etc.) into their stores.

A model with a co-located store gets its own in that store (started just before); every other
model gets its own in every running store of the experiment, as SmartSim does. An object shared
by an ensemble's members is loaded once per store. This runs before any model process starts,
so an object that cannot be loaded (bytes that are not a model, a script that does not run, a
file gone) fails the start with the client's typed error, naming the object and the store.
"""

from __future__ import annotations

from collections.abc import Sequence

import anyio
import attrs

from smartflow.client import Client
from smartflow.entities.colocated import ColocatedDB
from smartflow.entities.db_objects import DBModel, DBObject, DBScript
from smartflow.entities.model import Model
from smartflow.entities.orchestrator import Orchestrator
from smartflow.errors import ExperimentError, InvalidArgumentError, SmartflowError


@attrs.define(eq=False)
class _Target:
    """One store and what to load into it."""

    label: str
    db: Orchestrator | ColocatedDB
    objects: list[DBObject] = attrs.field(factory=list)
    owners: dict[int, list[str]] = attrs.field(factory=dict)

    def add(self, obj: DBObject, owner: str) -> None:
        if id(obj) not in self.owners:
            self.objects.append(obj)
            self.owners[id(obj)] = []
        self.owners[id(obj)].append(owner)


def check_stores(members: Sequence[Model], stores: Sequence[Orchestrator]) -> None:
    """Refuse, before anything starts, models that declare objects but would have no store."""
    homeless = [m.name for m in members if _declares(m) and not m.colocated]
    if homeless and not stores:
        raise ExperimentError(
            f"{', '.join(homeless)}: add_ml_model/add_script/add_function need a store; start "
            "one first (exp.start(db)) or co-locate one with the model"
        )


async def load_db_objects(members: Sequence[Model], stores: Sequence[Orchestrator]) -> int:
    """Load what ``members`` declare into their stores (co-located ones already started);
    returns how many loads were done. The first failure is raised, after every store answered."""
    targets = _plan(members, stores)
    errors: list[BaseException] = []

    async def load(target: _Target) -> None:
        try:
            await _load_into(target)
        except Exception as exc:  # raised below, once: never an ExceptionGroup
            errors.append(exc)

    async with anyio.create_task_group() as tg:
        for target in targets:
            tg.start_soon(load, target)
    if errors:
        raise errors[0]
    return sum(len(t.objects) for t in targets)


def _plan(members: Sequence[Model], stores: Sequence[Orchestrator]) -> list[_Target]:
    shared = [_Target(f"store {db.name!r}", db) for db in stores]
    targets: list[_Target] = []
    for model in members:
        if not _declares(model):
            continue
        if model.colocated_db is not None:
            here = [_Target(f"the co-located store of {model.name!r}", model.colocated_db)]
            targets += here
        else:
            here = shared
        for target in here:
            for obj in [*model.db_models, *model.db_scripts]:
                target.add(obj, model.name)
    return targets + [t for t in shared if t.objects]


async def _load_into(target: _Target) -> None:
    db = target.db
    address = ",".join(db.get_address())
    async with Client(address, cluster=db.num_shards > 1, password=db.password) as client:
        for obj in target.objects:
            try:
                await _load(client, obj)
            except SmartflowError as exc:
                owners = ", ".join(target.owners[id(obj)])
                raise type(exc)(
                    f"{owners}: {obj.kind} {obj.name!r} could not be loaded into {target.label}: "
                    f"{exc}"
                ) from exc


async def _load(client: Client, obj: DBObject) -> None:
    if isinstance(obj, DBModel):
        await _load_model(client, obj)
    else:
        await _load_script(client, obj)


async def _load_model(client: Client, obj: DBModel) -> None:
    data = obj.model if obj.model is not None else await _read(obj.model_path, binary=True)
    settings = {
        "batch_size": obj.batch_size,
        "min_batch_size": obj.min_batch_size,
        "min_batch_timeout": obj.min_batch_timeout,
        "tag": obj.tag,
        "inputs": list(obj.inputs) or None,
        "outputs": list(obj.outputs) or None,
    }
    if obj.devices_per_node > 1:
        await client.set_model_multigpu(
            obj.name, data, obj.backend, obj.first_device, obj.devices_per_node, **settings
        )
    else:
        await client.set_model(obj.name, data, obj.backend, obj.devices[0], **settings)


async def _load_script(client: Client, obj: DBScript) -> None:
    source = obj.script if obj.script is not None else await _read(obj.script_path, binary=False)
    if obj.devices_per_node > 1:
        await client.set_script_multigpu(obj.name, source, obj.first_device, obj.devices_per_node)
    else:
        await client.set_script(obj.name, source, obj.devices[0])


async def _read(path: object, *, binary: bool):  # type: ignore[no-untyped-def]
    """The file's bytes or text, read in a worker thread (it may have gone since it was added)."""
    file = anyio.Path(str(path))
    try:
        return await (file.read_bytes() if binary else file.read_text())
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidArgumentError(f"cannot read {path}: {exc}") from exc


def _declares(model: Model) -> bool:
    return bool(model.db_models or model.db_scripts)
