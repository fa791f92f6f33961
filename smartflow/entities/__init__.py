"""Declarative entities: what to launch. attrs data, no processes and no sockets."""

from smartflow.entities.orchestrator import Orchestrator as Orchestrator

__all__ = ["Orchestrator"]
