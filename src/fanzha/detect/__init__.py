"""识诈 `fanzha.detect`: is this message a scam? A Chinese fraud/illicit/spam classifier with no database dependency.

    from fanzha.detect import check, score_many
    v = check("您好，我是京东客服，您的校园贷需要注销……")
    v.risk, v.fraud_type, v.fraud_prob, v.reasons, v.advice
"""

from fanzha.detect.service import Verdict, check, load_model, score_many

__all__ = ["Verdict", "check", "load_model", "score_many"]
