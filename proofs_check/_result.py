"""The result every check returns: data, never printed by the check itself."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from landscape import jsonsafe


@dataclass
class CheckResult:
    """A check's outcome.

    Attributes
    ----------
    check : str
        The module name (``python -m proofs_check <check>``).
    claim : str
        The paper's statement, in words and formulas.
    settings : dict
        Everything that determines the run (sizes, trial count, tolerances).
    seed : int
        The root seed; each trial draws from its own ``SeedSequence`` child.
    statistics : dict
        Summary figures over trials.
    holds : bool
        Whether the measurements agree with the claim at these settings.
    verdict : str
        The outcome in words.
    records : list of dict
        One record per trial.
    """

    check: str
    claim: str
    settings: dict
    seed: int
    statistics: dict
    holds: bool
    verdict: str
    records: list[dict] = field(default_factory=list)

    def to_json(self) -> str:
        """Strict JSON (non-finite numbers tagged, see :mod:`landscape.jsonsafe`)."""
        return jsonsafe.dumps(asdict(self), indent=2)

    @classmethod
    def from_json(cls, text: str) -> CheckResult:
        return cls(**jsonsafe.loads(text))
