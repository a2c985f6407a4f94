"""The signed audit log (`log`), the checks of the store against it (`state`) and reading it (`history`).

`verify` (the full `audit verify`) and `witness` (rollback detection) build on these.
"""
