#!/usr/bin/env bash
# `pip install <build>/python` into a venv over the system's packages (offline), then the installed
# package, imported from outside the build tree, runs an exported model on the CPU path and matches the
# golden outputs.   check_pip_install.sh PYTHON BUILD_PYTHON_DIR EXPORTER_DIR WORK
set -euo pipefail
python="$1"; package="$2"; exporter="$3"; work="$4"
rm -rf "$work"; mkdir -p "$work"
cp -r "$package" "$work/src"  # pip's build writes into the source folder: not into the build tree
"$python" -m venv --system-site-packages "$work/venv"
# --system-site-packages reaches only the base interpreter's packages; when "$python" is itself a venv
# (as on the GPU hosts) its packages (numpy, torch) come in through a .pth file, after the venv's own.
"$python" -c "import site; print('\n'.join(site.getsitepackages()))" \
  >"$("$work/venv/bin/python" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")/_parent_site.pth"
"$work/venv/bin/python" -m pip install -q --no-build-isolation --no-index "$work/src"
cd "$work"
PYTHONPATH="$exporter" "$work/venv/bin/python" - <<'PY'
import kiln, numpy as np, torch  # kiln before torch: python/kiln/__init__.py says why
from kiln_export import export, read_tensors
from kiln_export import zoo
assert "/venv/" in kiln.__file__, kiln.__file__
torch.manual_seed(0)
export(zoo.autoencoder(), torch.randn(1, 3, 16, 16), "model")
golden = read_tensors("model/golden/outputs.manifest")
out = kiln.load("model", device="cpu").context().run(read_tensors("model/golden/inputs.manifest"))
for k in golden:
    err = np.linalg.norm(out[k] - golden[k]) / np.linalg.norm(golden[k])
    assert err < 1e-5, (k, err)
print("kiln %s from %s: golden outputs matched" % (kiln.__version__, kiln.__file__))
PY
