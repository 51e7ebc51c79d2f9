import os
import shutil
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
for path in (os.path.join(REPO, "exporter"), os.path.join(REPO, "demo")):
    if path not in sys.path:
        sys.path.insert(0, path)


@pytest.fixture
def kiln_bin():
    """The kiln executable under test: $KILN_BIN (CTest passes $<TARGET_FILE:kiln>)."""
    path = os.environ.get("KILN_BIN", "")
    if not (path and os.access(path, os.X_OK)):
        pytest.fail("set KILN_BIN to the kiln executable (found %r)" % path)
    return path


@pytest.fixture
def work_dir(tmp_path, request):
    """A fresh $KILN_TEST_WORK/<test name> when that is set (CTest: the build folder, so the files stay for
    a look after a failure), else tmp_path."""
    root = os.environ.get("KILN_TEST_WORK")
    if not root:
        return str(tmp_path)
    path = os.path.join(root, request.node.name)
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path
