"""mkdocs hooks (mkdocs.yml ``hooks``): the API reference pages are generated at build time
from the code (tools/gen_api_reference.py: the OpenAPI document and execflow.proto), never
committed, so they cannot go stale."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

TOOLS = Path(__file__).resolve().parent


def on_files(files: Files, config: Any) -> Files:
    spec = importlib.util.spec_from_file_location(
        "gen_api_reference", TOOLS / "gen_api_reference.py"
    )
    assert spec is not None and spec.loader is not None
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    for path, text in gen.generate(Path("reference")).items():
        files.append(File.generated(config, path.as_posix(), content=text))
    return files
