"""docs/programs.md: its override example is the program the canary example pins, by that sha256."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def test_the_override_example_hashes_to_the_pin_the_docs_and_the_canary_example_show() -> None:
    text = (ROOT / "docs" / "programs.md").read_text()
    source = re.search(r"```python\n(.*?)```", text, re.S)
    assert source, "docs/programs.md has no python example"
    digest = hashlib.sha256(source.group(1).encode()).hexdigest()
    assert f"{digest}  gen43/router.py" in text  # the `sha256sum gen43/router.py` output
    assert f"sha256: {digest}" in text  # the pin in the pipeline excerpt
    configmap, pipeline = yaml.safe_load_all((ROOT / "examples" / "canary-with-analysis.yaml").read_text())
    assert configmap["data"]["router.py"] == source.group(1)
    pin = pipeline["spec"]["variants"][1]["programs"]["router"]["configMapKeyRef"]["sha256"]
    assert pin == digest
