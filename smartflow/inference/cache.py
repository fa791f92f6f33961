"""Loaded models and scripts, by name and version: a model is loaded once per version.

Before each round the worker reads the version token of every model it is asked for (one MGET on
its shard, sent with the round's input fetch where it can be); a token it has not loaded yet
makes it read the record and build the runner, in a worker thread (onnxruntime's session
building is CPU work).
"""

from __future__ import annotations

import anyio

from smartflow.errors import KeyNotFoundError, SmartflowError
from smartflow.inference.runners import OnnxModel, Script, build
from smartflow.wire import protocol
from smartflow.wire.queue import ShardQueue


class ModelCache:
    def __init__(self, threads: int = 1) -> None:
        """``threads``: onnxruntime threads of each model the cache builds."""
        self._threads = threads
        self._runners: dict[str, OnnxModel | Script] = {}
        self._errors: dict[str, BaseException] = {}

    async def resolve(self, queue: ShardQueue, names: set[str]) -> None:
        """Make sure every named model is loaded at its current version (or note why not)."""
        ordered = self.named(names)
        if ordered:
            await self.update(queue, ordered, await queue.get(self.version_keys(queue, ordered)))

    @staticmethod
    def named(names: set[str]) -> list[str]:
        return sorted(n for n in names if n)

    @staticmethod
    def version_keys(queue: ShardQueue, ordered: list[str]) -> list[bytes]:
        return [protocol.version_key(queue.tag, n) for n in ordered]

    async def update(
        self, queue: ShardQueue, ordered: list[str], versions: list[bytes | None]
    ) -> None:
        """Given the current version tokens of ``ordered`` models, load those not loaded at that
        version (their records read in one MGET); note the missing ones."""
        self._errors = {n: e for n, e in self._errors.items() if n not in ordered}
        stale = []
        for name, version in zip(ordered, versions, strict=True):
            if version is None:
                self._runners.pop(name, None)
                self._errors[name] = KeyNotFoundError(f"model {name!r} does not exist")
            elif (
                loaded := self._runners.get(name)
            ) is None or loaded.record.version != version.decode():
                stale.append(name)
        if stale:
            records = await queue.get([protocol.model_key(queue.tag, n) for n in stale])
            for name, value in zip(stale, records, strict=True):
                await self._build(name, value)

    async def load_pending(self, queue: ShardQueue, pending: str) -> None:
        """Load a model ``set_model`` has not committed yet; on success it is also cached under
        its final name at its coming version, so the first run needs no load."""
        (value,) = await queue.get([protocol.model_key(queue.tag, pending)])
        final = protocol.final_name(pending)
        await self._build(final, value)
        if final in self._errors:
            raise self._errors.pop(final)

    async def _build(self, name: str, value: bytes | None) -> None:
        if value is None:
            self._errors[name] = KeyNotFoundError(f"model {name!r} does not exist")
            return
        try:
            record = protocol.ModelRecord.decode(value, name)
            self._runners[name] = await anyio.to_thread.run_sync(build, name, record, self._threads)
            self._errors.pop(name, None)
        except SmartflowError as exc:
            self._runners.pop(name, None)
            self._errors[name] = exc

    def error(self, name: str) -> BaseException | None:
        return self._errors.get(name)

    def runner(self, name: str) -> OnnxModel | Script:
        return self._runners[name]

    def record(self, name: str) -> protocol.ModelRecord | None:
        runner = self._runners.get(name)
        return runner.record if runner is not None else None

    def batching(self, names: list[str]) -> set[str]:
        """Those of ``names`` whose model joins runs and wants a minimum batch."""
        return {
            n
            for n in names
            if (r := self.record(n)) is not None and r.batch_size and r.min_batch_size > 1
        }
