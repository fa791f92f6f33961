"""Ensemble: many parameterised replicas of one model."""

from __future__ import annotations

import attrs

from smartflow.entities._db_methods import DBObjectMethods
from smartflow.entities._perms import check_strategy, expand, normalise_params
from smartflow.entities.db_objects import DBModel, DBObject, DBScript, check_unique
from smartflow.entities.model import Model, check_entity_name
from smartflow.errors import InvalidArgumentError
from smartflow.settings.run import BatchSettings, RunSettings


@attrs.define(eq=False)
class Ensemble(DBObjectMethods):
    """A group of member models named ``<name>_<i>``. Create it with ``exp.create_ensemble``.

    Models and scripts added to the ensemble (``add_ml_model`` etc.) are added to every member,
    present and future, and loaded once into each store the members share."""

    name: str = attrs.field(converter=check_entity_name)
    models: list[Model] = attrs.field(factory=list)
    params: dict = attrs.field(factory=dict)
    db_models: list[DBModel] = attrs.field(factory=list)
    db_scripts: list[DBScript] = attrs.field(factory=list)
    #: Run every member in one batch job (None: each member is a step of its own).
    batch_settings: BatchSettings | None = None

    kind = "Ensemble"

    @classmethod
    def build(
        cls,
        name: str,
        params: dict | None,
        run_settings: RunSettings | None,
        replicas: int | None,
        perm_strategy,
        n_models: int | None,
        params_as_args: list[str] | None,
    ) -> Ensemble:
        """Expand parameters and replicas into members (all checked here, at creation)."""
        check_strategy(perm_strategy)
        ensemble = cls(name, params=normalise_params(params))
        if replicas is not None and (not isinstance(replicas, int) or replicas < 1):
            raise InvalidArgumentError(f"replicas must be an int >= 1, got {replicas!r}")
        combos = expand(ensemble.params, perm_strategy, n_models) if ensemble.params else []
        if not combos and replicas is None:
            return ensemble  # members may be added with add_model
        if run_settings is None:
            raise InvalidArgumentError(f"ensemble {name!r}: params or replicas need run_settings")
        combos = [c for c in (combos or [{}]) for _ in range(replicas or 1)]
        for i, combo in enumerate(combos):
            member = Model(
                f"{name}_{i}",
                run_settings.copy(),
                params=combo,
                params_as_args=list(params_as_args or []),
                key_prefixing=True,
                ensemble=name,
            )
            ensemble.models.append(member)
        return ensemble

    def add_model(self, model: Model) -> None:
        """Add a member; its name must be unique in the ensemble."""
        if not isinstance(model, Model):
            raise InvalidArgumentError(f"add_model takes a Model, got {model!r}")
        if any(m.name == model.name for m in self.models):
            raise InvalidArgumentError(
                f"ensemble {self.name!r} already has a member {model.name!r}"
            )
        if model.ensemble not in (None, self.name):
            raise InvalidArgumentError(f"{model.name!r} already belongs to {model.ensemble!r}")
        for obj in self._db_objects():
            check_unique(f"model {model.name!r}", model._db_objects(), obj)
        model.ensemble = self.name
        self.models.append(model)
        for obj in self._db_objects():
            if all(obj is not mine for mine in model._db_objects()):
                model._append_db_object(obj)

    def _add_db_object(self, obj: DBObject) -> None:
        """Add ``obj`` to the ensemble and every member, or (on a name clash) to none."""
        check_unique(f"ensemble {self.name!r}", self._db_objects(), obj)
        for member in self.models:
            check_unique(f"ensemble member {member.name!r}", member._db_objects(), obj)
        self._append_db_object(obj)
        for member in self.models:
            member._append_db_object(obj)

    def attach_generator_files(self, to_copy=None, to_symlink=None, to_configure=None) -> None:
        """Attach the same files to every member."""
        for member in self.models:
            member.attach_generator_files(to_copy, to_symlink, to_configure)

    def register_incoming_entity(self, entity: object) -> None:
        for member in self.models:
            member.register_incoming_entity(entity)

    def enable_key_prefixing(self) -> None:
        for member in self.models:
            member.enable_key_prefixing()

    def query_key_prefixing(self) -> bool:
        return all(m.query_key_prefixing() for m in self.models)
