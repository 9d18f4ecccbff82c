"""Pure: the desired children of a pipeline from its spec and its resolved inputs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from evolved_operator.apply_plan import content_hash, key_of
from evolved_operator.cache import ChildKey
from evolved_operator.inputs import Inputs
from evolved_operator.problems import Problem
from evolved_operator.render import Owner, render_all


@dataclass(frozen=True)
class Desired:
    objects: list[dict[str, Any]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    program_hashes: dict[str, str] = field(default_factory=dict)

    def hashes(self) -> dict[ChildKey, str]:
        return {key_of(obj): content_hash(obj) for obj in self.objects}


def owner_of(body: dict[str, Any]) -> Owner:
    meta = body["metadata"]
    return Owner(name=str(meta["name"]), namespace=str(meta["namespace"]), uid=str(meta["uid"]))


def build_desired(body: dict[str, Any], inputs: Inputs) -> Desired:
    if inputs.problems or inputs.spec is None:
        return Desired(problems=list(inputs.problems))
    rendered = render_all(owner_of(body), inputs.spec, inputs.programs)
    return Desired(objects=rendered.objects, program_hashes=rendered.program_hashes)
