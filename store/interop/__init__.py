"""The field's interchange formats: STIX 2.1 bundles (`stix.py`) and MISP events (`misp.py`), out and in.

What may leave and what an import accepts is decided once, in `common.py`, for both formats: the same
selection as sealed bundles (status, RED, re-export rules) under a TLP ceiling, and the same record writer
as bundle import for what comes in.
"""
