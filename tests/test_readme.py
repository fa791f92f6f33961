"""The README's two commands stay true: CI runs the test one verbatim; the demo one exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    return re.findall(r"```bash\n(.+?)\n```", text)[:2]


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    _, test_command = _readme_commands()
    ci_lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert test_command in ci_lines


def test_readme_demo_command_names_an_existing_example() -> None:
    demo_command, _ = _readme_commands()
    script = re.search(r"python (\S+\.py)", demo_command)
    assert script is not None and (ROOT / script.group(1)).is_file()
