"""Shared test setup: make ``tests/writers.py`` importable and keep hypothesis fast.

The default profile is derandomised: detector properties hold for all but rare noise draws,
and CI must not fail on the draw of the day. ``HYPOTHESIS_PROFILE=thorough`` runs the property
tests with many more, random examples (rare failures there are worth a look); ``fuzz`` is what
``make fuzz`` runs on tests/fuzz.
"""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

try:
    from hypothesis import HealthCheck, settings
except ImportError:  # pragma: no cover - hypothesis is a dev extra
    pass
else:
    settings.register_profile("lossctl", deadline=None, max_examples=60, derandomize=True,
                              suppress_health_check=[HealthCheck.function_scoped_fixture])
    settings.register_profile("thorough", deadline=None, max_examples=2000,
                              suppress_health_check=[HealthCheck.function_scoped_fixture])
    # `make fuzz`: tests/fuzz with many random examples each (FUZZ_EXAMPLES, default 20,000)
    settings.register_profile("fuzz", deadline=None, max_examples=int(os.environ.get("FUZZ_EXAMPLES", "20000")),
                              print_blob=True, suppress_health_check=list(HealthCheck))
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "lossctl"))
