"""``seqtool plugin new``: write a complete, installable plugin package from the templates."""

from __future__ import annotations

import re
import subprocess
import sys
from importlib.resources import files
from pathlib import Path

from seqtool.errors import DataError, UsageError

_NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


def new_plugin(name: str, directory: Path | None = None) -> Path:
    """Write the ``seqtool-NAME`` package into ``directory`` (default ``./seqtool-NAME``) and
    generate its sample data; refuses to touch a directory that already exists."""
    if not _NAME.match(name):
        raise UsageError(f"invalid task name {name!r}: use lowercase letters, digits and single dashes, starting with a letter (e.g. weather, stock-volume)")
    module = "seqtool_" + name.replace("-", "_")
    target = Path(directory or f"seqtool-{name}")
    if target.exists():
        raise DataError(f"{target} already exists; choose another --dir or remove it first")
    templates = files("seqtool") / "templates" / "plugin"
    layout = {
        "pyproject.toml.tmpl": "pyproject.toml",
        "README.md.tmpl": "README.md",
        "tests/test_plugin.py.tmpl": f"tests/test_{module}.py",
        "package/__init__.py.tmpl": f"{module}/__init__.py",
        "package/adapter.py.tmpl": f"{module}/adapter.py",
        "package/sample_data/make.py.tmpl": f"{module}/sample_data/make.py",
    }
    for source, destination in layout.items():
        text = (templates / source).read_text(encoding="utf-8").replace("__NAME__", name).replace("__MODULE__", module)
        path = target / destination
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    subprocess.run([sys.executable, "make.py"], cwd=target / module / "sample_data", check=True)
    return target
