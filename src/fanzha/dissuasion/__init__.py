"""Dissuasion (劝阻): signing, contacts with evidence, outcomes, 止付/冻结 requests, follow-ups and escalation."""
