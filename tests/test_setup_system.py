"""`make test` does its own set-up: scripts/setup-system finds Debian's chromium, or (not root, no sudo)
stops at once naming the one command to run, before any test starts."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "setup-system"


def _run(tmp_path: Path, chromium: str) -> subprocess.CompletedProcess[str]:
    fake = tmp_path / "bin"
    fake.mkdir(exist_ok=True)
    for name, body in (("id", "echo 1000"), ("sudo", "exit 1")):  # an ordinary user without passwordless sudo
        tool = fake / name
        tool.write_text(f"#!/bin/sh\n{body}\n")
        tool.chmod(0o755)
    env = {**os.environ, "PATH": f"{fake}:/usr/bin:/bin", "MICROCRED_CHROMIUM": chromium}
    return subprocess.run(["bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=30, check=False)


def test_a_machine_with_chromium_needs_nothing(tmp_path: Path) -> None:
    result = _run(tmp_path, "/bin/sh")  # any executable stands for the browser here
    assert result.returncode == 0 and result.stdout == "" and result.stderr == ""


def test_without_chromium_or_rights_it_stops_and_names_the_command(tmp_path: Path) -> None:
    result = _run(tmp_path, str(tmp_path / "no-chromium"))
    assert result.returncode == 1
    assert "sudo apt-get install -y chromium" in result.stderr
    assert "installing" not in result.stdout  # it tried nothing
