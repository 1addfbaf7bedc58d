"""Rules files (docs/rules.md): every TOML file a centre edits is read through fanzha.common.rules, refuses a key it
does not know — at the top and inside a table — with a message naming the file and the key, and every key is
described in docs/rules.md, which is generated and current."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from fanzha.cli.docgen import SRC, rules_files, rules_keys, with_rules_reference
from fanzha.common.errors import Invalid
from fanzha.common.rules import RulesModel, error_text, load_rules_file, validate_rules

DOCS = Path(__file__).resolve().parents[2] / "docs"
FILES = rules_files()
SHIPPED = [(f, path) for f in FILES for path in f.defaults]


def test_every_shipped_toml_file_is_a_registered_rules_file():
    shipped = {p.resolve() for p in SRC.rglob("*.toml")}
    registered = {p.resolve() for _, p in SHIPPED}
    assert shipped - registered == set(), "register these with fanzha.common.rules.register"
    assert registered <= shipped


def test_every_key_has_a_description():
    missing = [f"{f.name}: {key.path}" for f in FILES
               for model in (f.model, *(m for _, m in f.parts)) for key in rules_keys(model)
               if not (key.field.description or "").strip()]
    assert missing == []


def test_every_rules_model_refuses_unknown_keys():
    def models(model: type[BaseModel]) -> list[type[BaseModel]]:
        from fanzha.cli.docgen import _model_in

        inner = [m for f in model.model_fields.values() if (m := _model_in(f.annotation)[0])]
        return [model] + [x for m in inner for x in models(m)]

    loose = [f"{f.name}: {m.__name__}" for f in FILES for model in (f.model, *(m for _, m in f.parts))
             for m in models(model) if not issubclass(m, RulesModel)]
    assert loose == []


def test_the_rules_reference_is_generated_from_the_models():
    text = (DOCS / "rules.md").read_text(encoding="utf-8")
    assert text == with_rules_reference(text), "run: python -m fanzha.cli.docgen"
    for f in FILES:
        assert f"(`{f.name}`)" in text and (not f.setting or f"`{f.setting}`" in text)
    assert "rules.md" in (DOCS / "configuration.md").read_text(encoding="utf-8")
    assert "docs/rules.md" in (DOCS.parent / "README.md").read_text(encoding="utf-8")


def _first_table(data: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """The first table of the file, as a dotted key and the table itself (an array of tables: its first)."""
    for key, value in data.items():
        if isinstance(value, dict):
            return key, value
        if isinstance(value, list) and value and isinstance(value[0], dict):
            return f"{key}.第1条", value[0]
    return None


@pytest.mark.parametrize("entry, path", SHIPPED, ids=[f"{f.name}:{p.name}" for f, p in SHIPPED])
def test_shipped_file_loads_and_refuses_unknown_keys(entry, path):
    assert isinstance(load_rules_file(entry.model, path, what=entry.title), entry.model)
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    with pytest.raises(Invalid) as top:
        validate_rules(entry.model, {**data, "zz_unknown": 1}, what=f"{entry.title} {path.name}")
    assert top.value.message == f"{entry.title} {path.name}：未知的键 zz_unknown"
    if (found := _first_table(data)) is None:  # no table to put a key in (feedback_default.toml: one list)
        return
    where, table = found
    table["zz_nested"] = 1
    with pytest.raises(Invalid) as nested:
        validate_rules(entry.model, data, what=f"{entry.title} {path.name}")
    assert f"未知的键 {where}.zz_nested" in nested.value.message


def test_messages_name_the_file_the_key_and_what_is_wrong(tmp_path):
    from fanzha.dispatch.policy import load_rules as policy_rules
    from fanzha.warnings.triage import DEFAULT_RULES
    from fanzha.warnings.triage import load_rules as triage_rules

    text = DEFAULT_RULES.read_text(encoding="utf-8")
    path = tmp_path / "triage.toml"
    cases = [
        (text.replace("sign = 5", "sign = 五"), r"^研判规则文件 triage.toml：第\d+行第\d+列：TOML 语法错误（"),
        (text.replace("sign = 5", 'sign = "5"'), "研判规则文件 triage.toml：deadlines.high.sign 应为整数"),
        (text.replace('funds = "high"', 'funds = "urgent"'), "base_grade.funds 应为 high、medium、low 之一"),
        (text.replace("[deadlines.low]", "[deadlines.lowest]"), "缺少键 deadlines.low；未知的键 deadlines.lowest"),
    ]
    for body, message in cases:
        path.write_text(body, encoding="utf-8")
        with pytest.raises(Invalid, match=message):
            triage_rules(path)
    with pytest.raises(Invalid, match=f"研判规则文件 {tmp_path / 'nope.toml'}：无法读取"):
        triage_rules(tmp_path / "nope.toml")
    policy = tmp_path / "policy.toml"
    policy.write_text("[handling]\nreach_rate = 1.5\nlow_sms_first_contact = 1\n", encoding="utf-8")
    with pytest.raises(Invalid, match="^调度策略文件 policy.toml：handling.reach_rate 应不大于 1；"
                                      "handling.low_sms_first_contact 应为 true 或 false$"):
        policy_rules(policy)
    # A rules file error is also a ValueError, as the loaders raised before.
    with pytest.raises(ValueError):
        policy_rules(policy)


def test_an_untranslated_error_keeps_pydantics_words():
    assert error_text({"type": "url_parsing", "loc": ("a", 0, "b"), "msg": "Input should be a valid URL"}) == \
        "a.第1条.b：Input should be a valid URL"
