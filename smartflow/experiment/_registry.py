"""The entities an experiment owns: their names, and which objects belong to it.

Names are unique across an experiment (models, ensembles and their members, stores and their
shards) because each becomes a directory, a process and a row in ``summary()``.
"""

from __future__ import annotations

from pathlib import Path

from smartflow.entities.ensemble import Ensemble
from smartflow.entities.model import Model, check_entity_name
from smartflow.entities.orchestrator import Orchestrator
from smartflow.errors import ExperimentError, InvalidArgumentError
from smartflow.experiment import _launch_specs
from smartflow.inference.spec import worker_name

Entity = Model | Ensemble | Orchestrator


class EntityRegistry:
    """Every entity an experiment created, by name."""

    def __init__(self, experiment: str, exp_path: Path) -> None:
        self.experiment = experiment
        self.exp_path = exp_path
        self.entities: dict[str, Entity] = {}

    def stores(self) -> list[Orchestrator]:
        return [e for e in self.entities.values() if isinstance(e, Orchestrator)]

    def claim(self, entity: Entity, names: list[str]) -> None:
        """Record ``entity``, refusing any of ``names`` already used in the experiment."""
        taken = self.names_in_use()
        clashes = [n for n in names if n in taken]
        if clashes:
            raise InvalidArgumentError(
                f"name(s) {', '.join(map(repr, clashes))} already used in experiment "
                f"{self.experiment!r}"
            )
        self.entities[entity.name] = entity

    def names_in_use(self) -> set[str]:
        """Every name taken: entities, members, shards (and co-located stores' rows)."""
        names: set[str] = set()
        for entity in self.entities.values():
            names.add(entity.name)
            names.update(process_names(entity))
            names.update(colocated_names(entity))
        return names

    def colocated_addresses(self, entities: list[Entity] | None = None) -> list[str]:
        """Where the started co-located stores of ``entities`` (default: all) listen."""
        addresses = []
        for entity in self.entities.values() if entities is None else entities:
            for model in [] if isinstance(entity, Orchestrator) else entity.models:
                colo = model.colocated_db
                if colo is not None and (colo.unix_socket is not None or colo.port_known):
                    addresses += colo.get_address()
        return addresses

    def check_owned(self, entity: object) -> None:
        """Refuse anything this experiment did not create (members added with add_model
        are adopted)."""
        if not isinstance(entity, Model | Ensemble | Orchestrator):
            raise InvalidArgumentError(f"{entity!r} is not a smartflow entity")
        owner = self.entities.get(entity.name)
        if owner is entity:
            if isinstance(entity, Ensemble):
                self._adopt_added_members(entity)
            return
        if isinstance(owner, Ensemble) and any(m is entity for m in owner.models):
            return
        ensemble = self.entities.get(entity.ensemble or "") if isinstance(entity, Model) else None
        if isinstance(ensemble, Ensemble) and any(m is entity for m in ensemble.models):
            return  # a member added to one of our ensembles with add_model
        raise ExperimentError(
            f"{entity.name!r} was not created by experiment {self.experiment!r}; "
            "create it with this experiment's create_* methods"
        )

    def _adopt_added_members(self, ensemble: Ensemble) -> None:
        """Members given to ``add_model`` that this experiment did not create: check their
        names as create_model would, and give them a directory inside the ensemble's."""
        for member in ensemble.models:
            check_entity_name(member.name)
        owners: dict[str, set[int]] = {}
        for entity in self.entities.values():
            owners.setdefault(entity.name, set()).add(id(entity))
            members = entity.models if isinstance(entity, Ensemble) else []
            for member in members:
                owners.setdefault(member.name, set()).add(id(member))
        for db in self.stores():
            for shard in db.shard_names:
                owners.setdefault(shard, set()).add(id(db))
        clashes = sorted(name for name, ids in owners.items() if len(ids) > 1)
        if clashes:
            raise InvalidArgumentError(
                f"name(s) {', '.join(map(repr, clashes))} used by more than one entity of "
                f"experiment {self.experiment!r}"
            )
        for member in ensemble.models:
            if member.path is None:
                member.path = self.exp_path / ensemble.name / member.name


def colocated_names(entity: Entity) -> list[str]:
    """The actors of the co-located stores of ``entity``'s models that have been started."""
    members = [] if isinstance(entity, Orchestrator) else entity.models
    return [_launch_specs.colocated_store_name(m) for m in members if m.colocated]


def colocated_of(model: Model) -> list:
    return [model.colocated_db] if model.colocated_db is not None else []


def process_names(entity: Entity) -> list[str]:
    """The processes of ``entity``, one status each: a store's shards, then their inference
    workers (a store whose worker gave up is not wholly running); a model, or the members of
    an ensemble."""
    if isinstance(entity, Orchestrator):
        return entity.shard_names + [worker_name(shard) for shard in entity.shard_names]
    return [m.name for m in entity.models]


def unique_members(entities: list[Model | Ensemble]) -> list[Model]:
    members: list[Model] = []
    for entity in entities:
        members += [m for m in entity.models if all(m is not seen for seen in members)]
    return members
