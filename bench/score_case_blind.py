"""Score a blind narrative set (tests/fixtures/case_narratives_blind*.tsv) once with a case-type model, as the
product answers (no suggestion counts as wrong), and print the per-type table and the confusion matrix in the form
MODEL_CARD.md records them.

    .venv/bin/python bench/score_case_blind.py [--set FILE] [--model DIR] [--json OUT]

Run it once per shipped model and copy the result into the model card; never tune on what it shows (each set was
written and frozen before a tuning round of issue 24: see the card).
"""

from __future__ import annotations

import argparse
import json


SHORT = {"brushing": "刷单", "fake_customer_service": "客服", "investment": "投资", "loan": "贷款", "credit_repair": "征信",
         "shopping": "购物", "impersonate_authority": "公检法", "impersonate_acquaintance": "熟人", "game_trade": "游戏",
         "romance": "婚恋", "wanghei": "网黑", "military_purchase": "军警"}


def table(res: dict) -> str:
    from fanzha.cases.suggest.narratives import TYPES
    from fanzha.detect.taxonomy import FRAUD_TYPE_LABELS as FRAUD_TYPES

    lines = ["| type | code | precision | recall | F1 | n |", "|---|---|---|---|---|---|"]
    for t in TYPES:
        v = res["per_type"][t]
        lines.append(f"| {FRAUD_TYPES[t]} | `{t}` | {v['precision']:.3f} | {v['recall']:.3f} | {v['f1']:.3f} "
                     f"| {v['n']} |")
    return "\n".join(lines)


def confusion_table(matrix: list[list[int]]) -> str:
    from fanzha.cases.suggest.narratives import TYPES

    short = [SHORT[t] for t in TYPES] + ["无建议"]
    lines = ["| true \\ predicted | " + " | ".join(short) + " |", "|---" * (len(short) + 1) + "|"]
    for t, row in zip(TYPES, matrix):
        lines.append(f"| `{t}` | " + " | ".join(str(x) if x else "·" for x in row) + " |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=None, help="model directory (default: the shipped one)")
    ap.add_argument("--json", default=None, help="also write the full result here")
    ap.add_argument("--set", default=None, help="the blind set to score (default: tests/fixtures/case_narratives_blind.tsv;"
                                                 " the later ones are case_narratives_blind2.tsv, …_blind3.tsv)")
    args = ap.parse_args()
    from fanzha.cases.suggest.model import NarrativeTypeModel
    from fanzha.cases.suggest.train import score_blind

    model = NarrativeTypeModel.load(args.model) if args.model else None
    res = score_blind(model) if args.set is None else score_blind(model, args.set)
    print(f"{args.set or 'blind set'}: macro-F1 {res['macro_f1']:.3f}, accuracy {res['accuracy']:.3f}, n {res['n']}, "
          f"no suggestion {res['no_suggestion']}")
    print(table(res))
    print()
    print(confusion_table(res["confusion"]))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(res, fh, ensure_ascii=False, indent=1)


if __name__ == "__main__":
    main()
