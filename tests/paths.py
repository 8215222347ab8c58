"""Where the tests find the source SOP texts and the public QA set.

Byte-identical copies of ``shared/seeds`` and ``shared/qa/dev.yaml`` live in tests/fixtures so a
clean clone can check the catalog against its sources; ALUR_SEEDS / ALUR_QA_DEV point elsewhere.
"""

import os
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SEEDS = Path(os.environ.get("ALUR_SEEDS", FIXTURES / "seeds"))
DEV_SET = Path(os.environ.get("ALUR_QA_DEV", FIXTURES / "qa" / "dev.yaml"))
