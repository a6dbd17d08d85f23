"""Hypothesis profiles: a deterministic ``ci`` profile (default) and a longer ``fuzz`` profile.

Choose with ``HYPOTHESIS_PROFILE=fuzz``. No deadline: the first call of a Numba
kernel compiles or loads it from the cache, which would blow any deadline.
"""

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=40,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "fuzz",
    deadline=None,
    max_examples=1000,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
