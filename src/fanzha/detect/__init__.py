"""识诈 `fanzha.detect`: is this message a scam? A Chinese fraud/illicit/spam classifier with no database dependency.

    from fanzha.detect import check, score_many
    v = check("您好，我是京东客服，您的校园贷需要注销……")
    v.risk, v.fraud_type, v.fraud_prob, v.reasons, v.advice

The names below load the service (and with it the model) when first used, not when the package is imported: a
module that needs only `detect.extract` or `detect.normalise` (the blocklist's spelling, 串并案) stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__all__ = ["Verdict", "check", "load_model", "score_many"]

if TYPE_CHECKING:
    from fanzha.detect.service import Verdict, check, load_model, score_many


def __getattr__(name: str):
    if name in __all__:
        from fanzha.detect import service

        return getattr(service, name)
    raise AttributeError(f"module 'fanzha.detect' has no attribute {name!r}")
