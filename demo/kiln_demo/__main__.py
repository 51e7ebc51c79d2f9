"""python3 -m kiln_demo: see pipeline.py for what it does and demo/README.md for what it writes."""
import importlib.util
import os
import sys

if importlib.util.find_spec("kiln_export") is None:
    # Run from the repository without PYTHONPATH: use the exporter that sits beside the demo.
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                    "exporter"))

from kiln_demo import kiln_package  # noqa: E402 - needs the path set above


def _kiln_option(argv):
    for i, a in enumerate(argv):
        if a == "--kiln" and i + 1 < len(argv):
            return argv[i + 1]
        if a.startswith("--kiln="):
            return a.split("=", 1)[1]
    return ""


if "-h" not in sys.argv and "--help" not in sys.argv:
    try:  # kiln before torch (kiln_package.py says why); a failure is reported by the pipeline
        kiln_package.import_kiln(_kiln_option(sys.argv[1:]))
    except RuntimeError:
        pass

from kiln_demo.pipeline import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
