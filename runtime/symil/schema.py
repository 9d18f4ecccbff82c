"""The JSON schema of SymIL, generated from the models (docs/symil.md embeds it)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from evolved_runtime.symil.models import Problem

DOC_BEGIN = "<!-- symil-schema:begin -->"
DOC_END = "<!-- symil-schema:end -->"


def symil_schema() -> dict[str, Any]:
    """JSON schema of a SymIL problem (validation mode)."""
    schema = Problem.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "SymIL problem"
    return schema


def schema_json() -> str:
    return json.dumps(symil_schema(), indent=2, sort_keys=True)


def doc_block() -> str:
    """The fenced schema block as it appears in docs/symil.md between the markers."""
    return f"{DOC_BEGIN}\n```json\n{schema_json()}\n```\n{DOC_END}"


def main(argv: list[str] | None = None) -> None:
    """Print the schema (``python -m evolved_runtime.symil.schema``); ``--doc`` rewrites docs/symil.md."""
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["--doc"]:
        path = Path(args[1] if len(args) > 1 else "docs/symil.md")
        text = path.read_text()
        start, end = text.index(DOC_BEGIN), text.index(DOC_END) + len(DOC_END)
        path.write_text(text[:start] + doc_block() + text[end:])
        return
    print(schema_json())


if __name__ == "__main__":
    main()
