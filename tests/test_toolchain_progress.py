"""The control-plane build says it is alive during long compiles and reports failures clearly."""

from __future__ import annotations

import pytest

from e2e import toolchain


def test_a_long_command_logs_progress_and_returns_its_output(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(toolchain, "HEARTBEAT_SECONDS", 0.05)
    out = toolchain.run(["sh", "-c", "sleep 0.3; echo built"])
    assert out == "built\n"
    assert "still running: sh -c ..." in capsys.readouterr().out


def test_a_failing_command_shows_its_output_and_exits_with_the_command(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit, match=r"command failed \(3\): sh -c"):
        toolchain.run(["sh", "-c", "echo compile error >&2; exit 3"])
    assert "compile error" in capsys.readouterr().err
