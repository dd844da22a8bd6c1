"""``python -m eval`` routes its subcommands; ``realcheck`` goes to eval.realcheck.main lazily."""

from __future__ import annotations

import sys
import types

import pytest

from eval.__main__ import main


@pytest.mark.parametrize("argv", [["--help"], ["demo-report", "--help"], ["studies", "--help"],
                                  ["report", "--help"]])
def test_every_subcommand_has_help(argv, capsys) -> None:
    with pytest.raises(SystemExit) as done:
        main(argv)
    assert done.value.code == 0
    assert "usage: python -m eval" in capsys.readouterr().out


def test_realcheck_is_routed_with_its_arguments(monkeypatch) -> None:
    seen = []
    fake = types.ModuleType("eval.realcheck")
    fake.main = lambda argv: seen.append(list(argv)) or 3
    monkeypatch.setitem(sys.modules, "eval.realcheck", fake)
    import eval as package

    monkeypatch.setattr(package, "realcheck", fake, raising=False)
    assert main(["realcheck", "--quick"]) == 3
    assert seen == [["--quick"]]


def test_a_report_needs_data(capsys) -> None:
    with pytest.raises(SystemExit) as done:
        main([])
    assert done.value.code == 2 and "--data" in capsys.readouterr().err
