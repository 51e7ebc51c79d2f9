#!/usr/bin/env bash
# Installs what kiln needs from Debian's packages (Debian 12). Skips apt entirely when everything is
# already there. The CUDA Toolkit, cuDNN and cuBLAS are expected under /usr/local/cuda (or in the
# system paths, as on the GPU hosts).
set -euo pipefail

packages=(cmake g++ make pkg-config libyaml-cpp-dev libgtest-dev libgmock-dev libbenchmark-dev
          clang libclang-rt-dev libcli11-dev nlohmann-json3-dev zlib1g-dev pybind11-dev
          python3-torch python3-torchvision python3-yaml python3-numpy python3-pytest python3-venv python3-setuptools python3-tqdm
          python3-skimage python3-pil python3-matplotlib)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install_deps: all ${#packages[@]} packages present"
  exit 0
fi
if ! command -v apt-get >/dev/null; then
  echo "install_deps: missing ${missing[*]} and no apt-get here; install them by hand" >&2
  exit 1
fi
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "install_deps: installing ${missing[*]}"
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
