"""The README documents every setting, and shows the two commands."""

from pathlib import Path

from newsflow.settings import Settings

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def test_every_setting_is_in_the_configuration_table() -> None:
    missing = [
        f"NEWSFLOW_{n.upper()}"
        for n in Settings.model_fields
        if f"`NEWSFLOW_{n.upper()}`" not in README
    ]
    assert missing == []


def test_the_two_commands_are_shown() -> None:
    assert "make up" in README
    assert "make test" in README
