"""Declarative entities: what to launch. attrs data, no processes and no sockets."""

from smartflow.entities._perms import params_scalars as params_scalars
from smartflow.entities.db_objects import DBModel as DBModel
from smartflow.entities.db_objects import DBScript as DBScript
from smartflow.entities.ensemble import Ensemble as Ensemble
from smartflow.entities.model import Model as Model
from smartflow.entities.model import TaskManager as TaskManager
from smartflow.entities.orchestrator import Orchestrator as Orchestrator

__all__ = [
    "DBModel",
    "DBScript",
    "Ensemble",
    "Model",
    "Orchestrator",
    "TaskManager",
    "params_scalars",
]
