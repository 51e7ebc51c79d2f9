"""CTest entry point of the exporter tests: runs this folder's pytest suite with the interpreter CMake chose
(KILN_PYTHON). Exits 77 (CTest's skip code here) only when that interpreter cannot import torch."""
import importlib
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

try:
    importlib.import_module("torch")
except Exception as e:  # noqa: BLE001 - any import failure means "no usable PyTorch here"
    print("exporter_pytest skipped: %s cannot import torch (%s: %s); set -DKILN_PYTHON to a python3 with PyTorch"
          % (sys.executable, type(e).__name__, e))
    sys.exit(77)

try:
    import pytest
except ImportError:
    print("exporter_pytest: %s has torch but not pytest; install pytest for it" % sys.executable)
    sys.exit(1)

sys.exit(pytest.main([HERE, "-q", "-p", "no:cacheprovider", "--rootdir", HERE] + sys.argv[1:]))
