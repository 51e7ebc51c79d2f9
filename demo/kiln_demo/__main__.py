"""python3 -m kiln_demo: see pipeline.py for what it does and demo/README.md for what it writes."""
import importlib.util
import os
import sys

if importlib.util.find_spec("kiln_export") is None:
    # Run from the repository without PYTHONPATH: use the exporter that sits beside the demo.
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                    "exporter"))

from kiln_demo.pipeline import main  # noqa: E402 - needs the path set above

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
