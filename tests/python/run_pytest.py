"""CTest entry point of one Python runtime suite: run_pytest.py test_FILE.py. Exits 77 (skip) only for
the GPU suite on a machine without a usable CUDA device, printing why; everything else it needs (torch,
numpy, pytest, the built package) missing is a failure."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
suite = sys.argv[1]

import pytest  # noqa: E402
import kiln  # noqa: E402

if suite == "test_runtime_gpu.py":
    ok, why = kiln.gpu_available()
    if not ok:
        print("python_runtime_gpu skipped: %s" % why)
        sys.exit(77)
    import torch  # noqa: E402
    if not torch.cuda.is_available():
        print("python_runtime_gpu skipped: kiln sees a GPU but this PyTorch (%s) has no CUDA" % torch.__version__)
        sys.exit(77)

sys.exit(pytest.main([os.path.join(HERE, suite), "-q", "-p", "no:cacheprovider", "--rootdir", HERE]))
