"""Experiment directories: one per model, attached files copied, linked and configured.

Everything is checked before anything is touched (an existing directory without ``overwrite`` is
refused with nothing changed), then the blocking file work runs in a worker thread.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import anyio

from smartflow._log import get_logger
from smartflow.entities.model import Model
from smartflow.errors import ExperimentError, InvalidArgumentError

PARAMS_FILE = "params.json"
_log = get_logger("generation")


def entity_directories(entity: object) -> list[Path]:
    """The top directories generating ``entity`` creates (an ensemble's, or a model's)."""
    path = getattr(entity, "path", None)
    if path is not None:
        return [Path(path)]
    return [Path(m.path).parent for m in getattr(entity, "models", [])[:1]]


async def generate(members: list[Model], tops: list[Path], tag: str, overwrite: bool) -> None:
    """Create the directories of ``members`` (``tops`` are the ones to check or replace)."""
    if not isinstance(tag, str) or not tag:
        raise InvalidArgumentError(f"tag must be a non-empty str, got {tag!r}")
    existing = [str(p) for p in tops if p.exists()]
    if existing and not overwrite:
        raise ExperimentError(
            f"cannot generate: {', '.join(existing)} already exist; pass overwrite=True to replace"
        )
    await anyio.to_thread.run_sync(_generate_blocking, members, tops, tag)


def _generate_blocking(members: list[Model], tops: list[Path], tag: str) -> None:
    pattern = re.compile(re.escape(tag) + r"([A-Za-z0-9_.-]+)" + re.escape(tag))
    # Read and configure every file first: a file that cannot be read or is not text is
    # refused before any existing directory is removed.
    configured = {model.name: _configured_files(model, pattern) for model in members}
    try:
        for top in tops:
            if top.is_symlink() or top.is_file():
                top.unlink()
            elif top.exists():
                shutil.rmtree(top)
        for model in members:
            assert model.path is not None
            directory = Path(model.path)
            directory.mkdir(parents=True, exist_ok=True)
            _place_files(model, directory, configured[model.name])
            if model.params:
                (directory / PARAMS_FILE).write_text(json.dumps(model.params, indent=2) + "\n")
    except OSError as exc:
        raise ExperimentError(f"generation failed: {exc}") from exc


def _configured_files(model: Model, pattern: re.Pattern[str]) -> dict[Path, str]:
    """Each configured file's path relative to the model's directory, and its new text."""
    result = {}
    for source in model.files.to_configure:
        sources = (
            sorted(p for p in source.rglob("*") if p.is_file()) if source.is_dir() else [source]
        )
        for path in sources:
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise InvalidArgumentError(
                    f"{model.name}: cannot configure {path}: it must be readable UTF-8 text ({exc})"
                ) from exc
            result[path.relative_to(source.parent)] = _configure(text, model, pattern, path)
    return result


def _place_files(model: Model, directory: Path, configured: dict[Path, str]) -> None:
    for source in model.files.to_copy:
        target = directory / source.name
        if source.is_dir():
            shutil.copytree(source, target, dirs_exist_ok=True)
        else:
            shutil.copy2(source, target)
    for source in model.files.to_symlink:
        (directory / source.name).symlink_to(source)
    for relative, text in configured.items():
        target = directory / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")


def _configure(text: str, model: Model, pattern: re.Pattern[str], path: Path) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in model.params:
            return str(model.params[name])
        _log.warning("unknown tag left as its name", entity=model.name, tag=name, file=str(path))
        return name

    return pattern.sub(replace, text)
