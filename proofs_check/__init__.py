"""One module per claim of the Surfing paper; each ``run(...)`` returns a JSON-serialisable CheckResult.

``python -m proofs_check NAME [--quick] [--seed S] [--json PATH]`` runs one from the shell.
"""

from ._result import CheckResult

__all__ = ["CheckResult"]
