#!/usr/bin/env bash
# `pip install ./exporter` the way the README says (a venv over the system's PyTorch, offline), then the
# installed `kiln-export` console script exports a model.   check_pip_install.sh PYTHON REPO WORK
set -euo pipefail
python="$1"; repo="$2"; work="$3"
rm -rf "$work"; mkdir -p "$work"
cp -r "$repo/exporter" "$work/src"  # pip's build writes into the source folder: not into the checkout
"$python" -m venv --system-site-packages "$work/venv"
# --system-site-packages reaches only the base interpreter's packages; when "$python" is itself a venv
# (as on the GPU hosts) its packages (numpy, torch) come in through a .pth file, after the venv's own.
"$python" -c "import site; print('\n'.join(site.getsitepackages()))" \
  >"$("$work/venv/bin/python" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")/_parent_site.pth"
"$work/venv/bin/python" -m pip install -q --no-build-isolation --no-index "$work/src"
cd "$work"
"$work/venv/bin/kiln-export" --model kiln_export.zoo:autoencoder --input-shape 1,3,16,16 --out "$work/model"
test -f "$work/model/model.yaml" && test -f "$work/model/weights.manifest"
echo "kiln-export from the installed package: ok"
