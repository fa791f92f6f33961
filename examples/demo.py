"""The main job: a store, an ensemble that writes to it, tensors in and out; says what happened.

python examples/demo.py
"""

from __future__ import annotations

import logging
import sys
import tempfile
import time
from pathlib import Path

import anyio
import numpy as np

from smartflow import Client, Experiment, KeyNotFoundError, SyncClient


async def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(name)s %(message)s")
    with tempfile.TemporaryDirectory() as workdir:
        async with Experiment("demo", exp_path=workdir) as exp:
            db = exp.create_database(interface="lo")
            started = time.perf_counter()
            await exp.start(db)
            print(f"store up at {db.get_address()[0]} in {time.perf_counter() - started:.3f} s")

            # In the driver no password is needed: this process started the store.
            async with Client(address=db.get_address()[0], cluster=False) as client:
                field = np.random.default_rng(42).random((256, 256), dtype=np.float32)
                await client.put_tensor("field", field)
                back = await client.get_tensor("field")
                same = np.array_equal(field, back)
                print(f"put/get {field.nbytes / 1024:.0f} KiB float32: equal={same}")

                batch = {f"step_{i}": np.full((4, 4), i, dtype=np.int64) for i in range(100)}
                await client.put_tensors(batch)
                fetched = await client.get_tensors(batch)
                print(f"bulk put/get of {len(fetched)} tensors in one round trip each")

                await client.rename_tensor("field", "field_v2")
                print(
                    f"renamed: field exists={await client.tensor_exists('field')}, "
                    f"field_v2 exists={await client.tensor_exists('field_v2')}"
                )
                try:
                    await client.get_tensor("field")
                except KeyNotFoundError as exc:
                    print(f"typed error for a missing key: {type(exc).__name__}: {exc}")

            # An ensemble: four members, each with its own parameter, each writing a tensor.
            member = Path(__file__).with_name("ensemble_member.py")
            rs = exp.create_run_settings(sys.executable, [str(member)])
            ens = exp.create_ensemble(
                "sim", params={"steps": [1, 2, 3, 4]}, run_settings=rs, params_as_args=["steps"]
            )
            started = time.perf_counter()
            await exp.start(ens, block=True)
            print(
                f"ensemble of {len(ens.models)} ran in {time.perf_counter() - started:.2f} s: "
                f"{[str(s) for s in await exp.get_status(ens)]}"
            )
            async with Client(address=db.get_address()[0]) as client:
                fields = await client.get_tensors([f"{m.name}.field" for m in ens.models])
                gathered = await client.get_datasets_from_list("results")  # one call
            for name, field in fields.items():
                print(f"  {name}: sum={field.sum():.3f}")
            steps = sorted(int(ds.get_meta_scalars("steps")[0]) for ds in gathered)
            print(f"gathered {len(gathered)} datasets from the shared list: steps={steps}")

            # Simulation codes that are not async use SyncClient (here from a worker thread).
            def simulation_step() -> float:
                with SyncClient(address=db.get_address()[0], password=db.password) as sync:
                    return float(sync.get_tensor("step_99").sum())

            print(f"SyncClient read step_99, sum={await anyio.to_thread.run_sync(simulation_step)}")
            print(exp.summary())
            await exp.stop(db)
            print(f"after stop: {await exp.get_status(db)}")


if __name__ == "__main__":
    anyio.run(main)
