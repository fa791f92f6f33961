"""Model: one executable, parameterised, possibly a member of an ensemble."""

from __future__ import annotations

import os
import re
from pathlib import Path

import attrs

from smartflow.entities._db_methods import DBObjectMethods
from smartflow.entities._perms import ParamValue
from smartflow.entities.colocated import ColocatedDB, colocated_tcp, colocated_uds
from smartflow.entities.db_objects import DBModel, DBObject, DBScript, check_unique
from smartflow.errors import InvalidArgumentError, UnsupportedTypeError
from smartflow.settings.run import BatchSettings, RunSettings

_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


#: Name endings of the processes smartflow starts for entities (a model's co-located store,
#: a store's inference workers): refused for entities, so no name can clash with one at start.
RESERVED_SUFFIXES = (".db", ".worker")


def check_entity_name(name: object) -> str:
    """Entity names become directory and file names: keep them plain."""
    if not isinstance(name, str):
        raise UnsupportedTypeError(f"entity name {name!r} must be a str, not {type(name).__name__}")
    if not _NAME.match(name):
        raise InvalidArgumentError(
            f"entity name {name!r} must be letters, digits, '_', '-' or '.', not starting with '.'"
        )
    if name.endswith(RESERVED_SUFFIXES):
        raise InvalidArgumentError(
            f"entity name {name!r}: names ending in {' or '.join(RESERVED_SUFFIXES)} are kept "
            "for the processes smartflow starts beside entities (co-located stores, inference "
            "workers)"
        )
    return name


def _paths(value: object, what: str) -> list[Path]:
    if value is None:
        return []
    items = [value] if isinstance(value, str | Path) else value
    if not isinstance(items, list | tuple):
        raise InvalidArgumentError(f"{what} must be a path or a list of paths, got {value!r}")
    if not all(isinstance(p, str | os.PathLike) for p in items):
        raise InvalidArgumentError(f"{what} must hold paths (str or os.PathLike), got {value!r}")
    paths = [Path(p).absolute() for p in items]
    for path in paths:
        if not path.exists():
            raise InvalidArgumentError(f"{what}: {path} does not exist")
    return paths


@attrs.frozen
class GeneratorFiles:
    """Files placed in an entity's directory by ``Experiment.generate``."""

    to_copy: tuple[Path, ...] = ()
    to_symlink: tuple[Path, ...] = ()
    to_configure: tuple[Path, ...] = ()


@attrs.define(eq=False)
class Model(DBObjectMethods):
    """An executable launched by an experiment. Create it with ``exp.create_model``."""

    name: str = attrs.field(converter=check_entity_name)
    run_settings: RunSettings = attrs.field()
    params: dict[str, ParamValue] = attrs.field(factory=dict)
    path: Path | None = None
    params_as_args: list[str] = attrs.field(factory=list)
    files: GeneratorFiles = attrs.field(factory=GeneratorFiles)
    incoming_entities: list[Model] = attrs.field(factory=list)
    _key_prefixing: bool = False
    ensemble: str | None = None
    #: The model's own store, started just before it and stopped when it ends.
    colocated_db: ColocatedDB | None = None
    #: Models and scripts loaded into its store before it starts (``add_ml_model`` etc.).
    db_models: list[DBModel] = attrs.field(factory=list)
    db_scripts: list[DBScript] = attrs.field(factory=list)
    #: Run as a batch job of its own (None: a step, or a process on this host).
    batch_settings: BatchSettings | None = None

    kind = "Model"

    @run_settings.validator
    def _check_settings(self, _: object, value: object) -> None:
        if not isinstance(value, RunSettings):
            raise InvalidArgumentError(
                f"model {self.name!r}: run_settings must come from exp.create_run_settings"
            )

    def __attrs_post_init__(self) -> None:
        for name in self.params_as_args:
            if name not in self.params:
                raise InvalidArgumentError(
                    f"model {self.name!r}: params_as_args names {name!r}, which is not a parameter"
                )

    @property
    def models(self) -> list[Model]:
        """The processes this entity launches: itself."""
        return [self]

    def attach_generator_files(self, to_copy=None, to_symlink=None, to_configure=None) -> None:
        """Files to copy, link, or copy with ``;param;`` tags replaced, at ``exp.generate``."""
        files = GeneratorFiles(
            tuple(_paths(to_copy, "to_copy")),
            tuple(_paths(to_symlink, "to_symlink")),
            tuple(_paths(to_configure, "to_configure")),
        )
        names = [p.name for p in (*files.to_copy, *files.to_symlink, *files.to_configure)]
        clashes = sorted({n for n in names if names.count(n) > 1 or n == "params.json"})
        if clashes:
            raise InvalidArgumentError(
                f"{self.name}: attached files would land on the same name in its directory: "
                f"{', '.join(clashes)}"
            )
        self.files = files

    def params_to_args(self) -> list[str]:
        """``--name=value`` for every parameter named in ``params_as_args``."""
        return [f"--{name}={self.params[name]}" for name in self.params_as_args]

    def register_incoming_entity(self, entity: object) -> None:
        """Let this model read keys ``entity`` writes (its name goes into ``SSKEYIN``)."""
        members = getattr(entity, "models", None)
        if not isinstance(members, list) or entity is self:
            raise InvalidArgumentError(f"cannot register {entity!r} as an incoming entity")
        for member in members:
            if all(m is not member for m in self.incoming_entities):
                self.incoming_entities.append(member)

    def colocate_db_tcp(
        self,
        port: int | None = None,
        ifname: str = "lo",
        db_cpus: int = 1,
        custom_pinning: object = None,
        debug: bool = False,
        db_identifier: str = "",
        **redis_conf: object,
    ) -> None:
        """Give this model its own store over TCP on its host (``port=None`` picks a free
        one, so two co-located models on a host never collide). ``db_cpus`` become Redis I/O
        threads, ``custom_pinning`` pins the store to those CPU ids, and extra keyword
        arguments are redis.conf settings (``maxmemory="1gb"``)."""
        self.colocated_db = colocated_tcp(
            port, ifname, db_cpus, custom_pinning, debug, db_identifier, redis_conf
        )

    def colocate_db_uds(
        self,
        unix_socket: str | os.PathLike[str] | None = None,
        socket_permissions: int = 0o755,
        db_cpus: int = 1,
        custom_pinning: object = None,
        debug: bool = False,
        db_identifier: str = "",
        **redis_conf: object,
    ) -> None:
        """Like :meth:`colocate_db_tcp`, over a unix socket (a short unique path in the
        temporary directory unless given); the application gets ``SSDB=unix:///path``."""
        self.colocated_db = colocated_uds(
            unix_socket, socket_permissions, db_cpus, custom_pinning, debug, db_identifier,
            redis_conf,
        )  # fmt: skip

    def _add_db_object(self, obj: DBObject) -> None:
        check_unique(f"model {self.name!r}", self._db_objects(), obj)
        self._append_db_object(obj)

    @property
    def colocated(self) -> bool:
        return self.colocated_db is not None

    def enable_key_prefixing(self) -> None:
        """Prefix this model's keys with its name (``SSKEYOUT``)."""
        self._key_prefixing = True

    def disable_key_prefixing(self) -> None:
        self._key_prefixing = False

    def query_key_prefixing(self) -> bool:
        return self._key_prefixing


@attrs.define(eq=False)
class TaskManager(Model):
    """A process of a batch inference job that pulls splits from the job's queue; the
    :class:`~smartflow.batch.Dispatcher` creates and starts them (``<job>.tm<i>``)."""

    #: The name of the job it serves.
    job: str = ""

    kind = "TaskManager"
