"""An experiment on Slurm: a 3-shard store as steps, an ensemble in one batch job, a step model.

    python examples/slurm.py            # on a Slurm login node, or inside an allocation

Each shard runs as a one-task srun step and reports its own address; the ensemble's members run
in one sbatch script and each keeps its own status; the step model reads what they wrote.
"""

from __future__ import annotations

import sys

import anyio

from smartflow import Experiment

MEMBER = """
import numpy as np, anyio, os
from smartflow import Client
async def main():
    async with Client() as client:
        await client.put_tensor(os.environ["MEMBER"], np.full(4, float(os.environ["STEP"])))
anyio.run(main)
"""

READER = """
import numpy as np, anyio
from smartflow import Client
async def main():
    async with Client() as client:
        total = sum([(await client.get_tensor(f"m{i}")).sum() for i in range(3)])
        print("sum of what the members wrote:", total)
anyio.run(main)
"""


async def main() -> None:
    async with Experiment("on-slurm", exp_path="smartflow-on-slurm", launcher="slurm") as exp:
        db = exp.create_database(db_nodes=3)
        await exp.start(db)
        print("store:", db.get_address())

        batch = exp.create_batch_settings(nodes=1, time="00:05:00")
        members = []
        for i in range(3):
            rs = exp.create_run_settings(sys.executable, ["-c", MEMBER])
            rs.update_env({"MEMBER": f"m{i}", "STEP": str(i + 1)})
            members.append(exp.create_model(f"member{i}", rs, batch_settings=batch))
        await exp.start(*members)
        print("members:", [str(s) for s in await exp.get_status(*members)])

        reader = exp.create_model("reader", exp.create_run_settings(sys.executable, ["-c", READER]))
        await exp.start(reader)
        print((exp.exp_path / "reader" / "reader.out").read_text().strip())
        print(exp.summary())


if __name__ == "__main__":
    anyio.run(main)
