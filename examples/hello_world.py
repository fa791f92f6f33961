"""Seed 003's "Hello World" with smartflow: a store and an `echo` model, their statuses, a summary.

python examples/hello_world.py
"""

from __future__ import annotations

import anyio

from smartflow import Experiment


async def main() -> None:
    async with Experiment("hello-world", exp_path="smartflow-hello-world") as exp:
        db = exp.create_database(db_nodes=1, interface="lo")
        settings = exp.create_run_settings("echo", exe_args="Hello World")
        model = exp.create_model("hello_world", settings)
        await exp.generate(db, model, overwrite=True)

        await exp.start(db, model)  # stores first; block=True waits for the model
        print(f"Database status: {await exp.get_status(db)}")
        print(f"Model status: {await exp.get_status(model)}")
        print(f"Model said: {(exp.exp_path / 'hello_world' / 'hello_world.out').read_text()}")

        await exp.stop(db)
        print(exp.summary())


if __name__ == "__main__":
    anyio.run(main)
