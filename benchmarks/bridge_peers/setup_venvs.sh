#!/usr/bin/env bash
# Create the peers' virtual environments for the bridge benchmark, each with
# the CPU build torch==2.13.0 and one peer library:
#   DIR/snntorch      torch==2.13.0, snntorch==1.0.0, numpy
#   DIR/spikingjelly  torch==2.13.0, spikingjelly==2.0.0 installed without its
#                     dataset/visualisation dependencies (torchvision,
#                     torchaudio, tensorboard, h5py, SciencePlots), which its
#                     converter (activation_based.ann2snn) does not import,
#                     plus the few packages the converter does import.
# Usage: setup_venvs.sh [DIR]   (default: $SPIKENET_PEER_VENVS, else
#        ~/.cache/spikenet/bridge_peers). Working venvs are kept as they are.
set -euo pipefail
DIR=${1:-${SPIKENET_PEER_VENVS:-$HOME/.cache/spikenet/bridge_peers}}
PY=${PYTHON:-python3}
mkdir -p "$DIR"

make_venv() {  # name, import check, "pip args", "pip --no-deps args"
    local name=$1 check=$2 deps=$3 nodeps=$4
    local venv="$DIR/$name"
    if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "$check" >/dev/null 2>&1; then
        echo "$name: ready in $venv"
        return 0
    fi
    rm -rf "$venv"
    "$PY" -m venv "$venv"
    # shellcheck disable=SC2086
    "$venv/bin/python" -m pip install --quiet $deps
    if [ -n "$nodeps" ]; then
        # shellcheck disable=SC2086
        "$venv/bin/python" -m pip install --quiet --no-deps $nodeps
    fi
    "$venv/bin/python" -c "$check"
    echo "$name: installed in $venv"
}

make_venv snntorch \
    "import torch, snntorch; assert torch.__version__.startswith('2.13.0'), torch.__version__" \
    "torch==2.13.0 snntorch==1.0.0 numpy" ""
make_venv spikingjelly \
    "import torch; from spikingjelly.activation_based import ann2snn; assert torch.__version__.startswith('2.13.0'), torch.__version__" \
    "torch==2.13.0 numpy scipy tqdm packaging loguru>=0.7,<1 matplotlib requests" "spikingjelly==2.0.0"
