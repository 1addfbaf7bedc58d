"""Docs kept honest: every setting, every role and the CLI reference match the code."""

from __future__ import annotations

from pathlib import Path

from fanzha.cli.docgen import render
from fanzha.config import Settings
from fanzha.org.roles import Role

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_every_setting_is_documented():
    text = (DOCS / "configuration.md").read_text(encoding="utf-8")
    missing = [f"FANZHA_{name.upper()}" for name in Settings.model_fields if f"`FANZHA_{name.upper()}`" not in text]
    assert not missing, f"document these settings in docs/configuration.md: {missing}"


def test_settings_table_is_generated_from_the_descriptions():
    """The settings table is the settings' own descriptions: editing one in config.py without regenerating fails."""
    from fanzha.cli.docgen import with_settings_table

    text = (DOCS / "configuration.md").read_text(encoding="utf-8")
    assert text == with_settings_table(text), "run: python -m fanzha.cli.docgen"
    assert not [n for n, f in Settings.model_fields.items() if not (f.description or "").strip()]


def test_every_role_is_documented():
    text = (DOCS / "roles.md").read_text(encoding="utf-8")
    assert not [r for r in Role if f"`{r.value}`" not in text]


def test_cli_reference_is_current():
    assert (DOCS / "cli.md").read_text(encoding="utf-8") == render(), "run: python -m fanzha.cli.docgen"


def test_cli_reference_has_every_command_of_the_tree():
    """The reference walks the command tree, so no command is left out: commands once missing from a hand-kept list
    are there, and a command added with a decorator appears without anything else to edit."""
    import typer

    from fanzha.cli.docgen import commands
    from fanzha.cli.main import app

    found = {" ".join(c) for c in commands()}
    assert {"assess score", "audit verify", "cases suggest-type", "db partitions", "db drop-month"} <= found
    extra = typer.Typer()

    @extra.command("new-one")
    def _new_one() -> None:
        """一个新命令。"""

    app.add_typer(extra, name="zz-probe")
    try:
        assert {"zz-probe", "zz-probe new-one"} <= {" ".join(c) for c in commands()}
    finally:
        app.registered_groups.pop()


def test_readme_opens_with_the_two_commands():
    readme = (DOCS.parent / "README.md").read_text(encoding="utf-8")
    block = readme.split("```sh", 1)[1].split("```", 1)[0].strip().splitlines()
    assert [line.split()[0:2] for line in block] == [["./dev", "run"], ["./dev", "test"]]
