"""Fanzha 反诈: the working system of an anti-telecom-fraud centre (反诈中心)."""

__version__ = "0.1.0"
