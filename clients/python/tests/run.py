"""Runs the tests (python3 -m unittest discovery) and ends with one summary line."""

import sys
import unittest
from pathlib import Path

here = Path(__file__).resolve().parent
sys.path[:0] = [str(here.parent / "src"), str(here)]
suite = unittest.defaultTestLoader.discover(str(here))
result = unittest.TextTestRunner(verbosity=2).run(suite)
failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
skipped = len(result.skipped)
passed = result.testsRun - failed - skipped
print(f"python: {passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
sys.exit(0 if result.wasSuccessful() and result.testsRun > 0 else 1)
