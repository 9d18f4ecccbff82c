"""Frames on the solver pool's pipes: split right however the bytes arrive, and readable by
``multiprocessing.Connection`` (the start-up handshake still uses it); the calls and outcomes
they carry come back as they were sent."""

from __future__ import annotations

import multiprocessing
import os
import pickle

import pytest

from evolved_runtime.english import translate
from evolved_runtime.solvers.backends import SolveOutcome
from evolved_runtime.solvers.frames import READ_SIZE, FrameReader, frame, write_all
from evolved_runtime.solvers.wire import call_bytes, outcome_bytes, read_call, read_outcome
from evolved_runtime.symil.formal import AspTask, FormalTask, SmtLibTask

MESSAGES = [b"first", b"", b"x" * 70_000, b"\x00\x01\x02 binary"]
STREAM = b"".join(frame(m) for m in MESSAGES)


@pytest.mark.parametrize(
    "chunk",
    [len(STREAM), 1, 3, 4, 5, 4096, 65_536],
    ids=lambda n: f"{n}-byte reads",
)
def test_frames_come_out_whole_and_in_order_whatever_the_read_size(chunk: int) -> None:
    reader = FrameReader()
    out: list[bytes] = []
    for start in range(0, len(STREAM), chunk):
        out.extend(reader.feed(STREAM[start : start + chunk]))
    assert out == MESSAGES
    assert reader.pending() == 0


def test_an_incomplete_frame_waits_for_the_rest() -> None:
    reader = FrameReader()
    data = frame(b"hello") + frame(b"world")
    assert reader.feed(data[:-2]) == [b"hello"]
    assert reader.pending() == len(frame(b"world")) - 2
    assert reader.feed(data[-2:]) == [b"world"]


def test_a_negative_length_is_a_lost_framing_not_a_frame() -> None:
    with pytest.raises(ValueError, match="negative length"):
        FrameReader().feed(b"\xff\xff\xff\xfe" + b"rest")


def test_connection_reads_what_a_frame_writes_and_the_reader_reads_what_connection_sends() -> None:
    ours, theirs = multiprocessing.Pipe(duplex=True)
    with ours, theirs:
        write_all(ours.fileno(), frame(b"to connection"))
        assert theirs.recv_bytes() == b"to connection"
        theirs.send_bytes(b"from connection")
        assert FrameReader().feed(os.read(ours.fileno(), READ_SIZE)) == [b"from connection"]


PROBLEM = translate("All men are mortal. Socrates is a man. Therefore Socrates is mortal.", 1)
assert PROBLEM is not None


@pytest.mark.parametrize(
    "task",
    [AspTask(source="a. b :- a."), SmtLibTask(source="(declare-const x Int)\n(check-sat)"), PROBLEM],
    ids=["ASP task", "SMT-LIB task", "SymIL problem"],
)
def test_a_call_comes_back_equal_and_of_its_type(task: FormalTask) -> None:
    copy, backend, timeout_ms = read_call(call_bytes(task, "clingo", 1234))
    assert type(copy) is type(task)
    assert (copy, backend, timeout_ms) == (task, "clingo", 1234)


@pytest.mark.parametrize(
    "outcome",
    [
        SolveOutcome(
            verdict="SAT", backend="clingo", model={"answer_sets": [["a", "b"]], "complete": True}, detail="1"
        ),
        SolveOutcome(verdict="UNKNOWN", backend="z3"),
    ],
    ids=["with a model", "without one"],
)
def test_an_outcome_comes_back_equal(outcome: SolveOutcome) -> None:
    assert read_outcome(outcome_bytes(outcome)) == outcome


@pytest.mark.parametrize(
    "data",
    [b"garbage", pickle.dumps(("SAT", "z3")), pickle.dumps(("MAYBE", "z3", None, "")), pickle.dumps(42)],
    ids=["not a pickle", "too few fields", "no such verdict", "not a tuple"],
)
def test_bytes_that_are_not_an_outcome_raise_instead_of_passing_for_one(data: bytes) -> None:
    with pytest.raises(Exception):  # noqa: B017, PT011  # pickle's, unpacking's or pydantic's error: the pool retires the process either way
        read_outcome(data)
