"""CTest entry point of the demo tests: `run_pytest.py KILN TEST_FILE [pytest args]` runs one pytest file of
this folder with KILN_BIN=KILN and the interpreter CMake chose (KILN_PYTHON). Exits 77 (CTest's skip code
here) only when that interpreter lacks a package the demo needs (torch, scikit-image, PIL, yaml)."""
import importlib
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

if len(sys.argv) < 3:
    print("usage: run_pytest.py KILN TEST_FILE [pytest args]")
    sys.exit(2)
for module in ("torch", "skimage", "PIL", "yaml", "pytest"):
    try:
        importlib.import_module(module)
    except Exception as e:  # noqa: BLE001 - any import failure means "not usable here"
        print("demo tests skipped: %s cannot import %s (%s: %s); set -DKILN_PYTHON to a python3 that has "
              "torch, scikit-image, pillow, pyyaml and pytest" % (sys.executable, module, type(e).__name__, e))
        sys.exit(77)
import pytest  # noqa: E402 - checked above

os.environ["KILN_BIN"] = os.path.abspath(sys.argv[1])
os.environ.setdefault("KILN_TEST_WORK", os.getcwd())
sys.exit(pytest.main([os.path.join(HERE, sys.argv[2]), "-q", "-p", "no:cacheprovider", "--rootdir", HERE]
                     + sys.argv[3:]))
