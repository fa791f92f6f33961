"""The experiment: the factory for entities and the async facade over their supervisor.

Its private modules are what only the experiment uses: the entity registry, starting stores and
models (``_launching``), the environment contract written into launched entities
(``_launch_specs``), loading declared models and scripts, generation and the summary table.
"""

from smartflow.experiment._experiment import Experiment as Experiment

__all__ = ["Experiment"]
