#!/usr/bin/env bash
# The GPU measurements in one run on the device machine, most important first, each under its own time
# limit and all under one deadline (GPU_CHECK_SECONDS, default 570: a step that would pass it is cut short or
# skipped, so the logs always come back). First, here: tools/device/pack.sh. Then:
#   device run  command: tools/device/gpu-check.sh   carry: [".dev/gpu", "dist"]   timeout_s: 590
# Logs (summary.log, one log per step, JSON results) go to $OUT, or ./gpu-out outside the device tool.
# --smoke: tiny sizes on whatever adapter answers (on a CPU machine: Chromium's SwiftShader Vulkan driver), to
# check the plumbing here before spending device time (PYTHON=/usr/bin/python3 where python3 lacks PyTorch).
set -u
cd "$(dirname "$0")/../.."
out=${OUT:-$PWD/gpu-out}; mkdir -p "$out"
smoke=0; [ "${1:-}" = --smoke ] && smoke=1
log() { echo "$*" | tee -a "$out/summary.log"; }
deadline=$(( $(date +%s) + ${GPU_CHECK_SECONDS:-570} ))

# Node, node_modules and the Vulkan loader from .dev/gpu; the NVIDIA Vulkan driver from the machine's image
tmp=$(mktemp -d)
unxz() { if command -v xz >/dev/null; then xz -dc "$1"; else python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), sys.stdout.buffer)' "$1"; fi; }
unxz .dev/gpu/node.xz > "$tmp/node" && chmod +x "$tmp/node" && export PATH="$tmp:$PATH"
[ -d node_modules ] || unxz .dev/gpu/modules.tar.xz | tar -x
dpkg -x .dev/gpu/libvulkan1.deb "$tmp/vk"
export LD_LIBRARY_PATH="$tmp/vk/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
if [ $smoke = 1 ]; then
  export LD_LIBRARY_PATH="/usr/lib/chromium:$LD_LIBRARY_PATH" VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json
else
  export VK_DRIVER_FILES=${VK_DRIVER_FILES:-/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json}
fi
tsx="node node_modules/tsx/dist/cli.mjs"
py=${PYTHON:-python3}   # one with PyTorch (the device's python3 has it; here: PYTHON=/usr/bin/python3)
isfuse="node dist/cli/main.js"

# step NAME SECONDS COMMAND...: output to NAME.log, its last lines and exit status to summary.log
step() {
  local name=$1 limit=$2; shift 2
  local left=$(( deadline - $(date +%s) ))
  if [ "$left" -lt 15 ]; then log "== $name: skipped (deadline)"; return; fi
  [ "$limit" -gt "$left" ] && limit=$left
  log "== $name ($(date -u +%T), limit ${limit}s): $*"
  timeout --kill-after=5 "$limit" "$@" > "$out/$name.log" 2>&1
  local rc=$?
  tail -n 4 "$out/$name.log" | cut -c1-400 | tee -a "$out/summary.log"
  log "   exit $rc"
}

log "isfuse gpu-check $(git rev-parse --short HEAD 2>/dev/null) $(date -u +%FT%TZ) node $(node --version)"
if [ $smoke = 1 ]; then
  step infer 60 $isfuse bench infer --backend webgpu --size 16x16 --runs 1
  step parity 300 $tsx bench/webgpu-step-parity.ts --batch 1 --crop 24
  step train-b8 300 $isfuse bench train --backend webgpu --batch 1 --crop 24 --warmup 0 --runs 1 --json
  step torch-train-b8 120 $py tools/bench_torch_train.py --batch 1 --crop 24 --warmup 0 --repeats 1 --json
  exit 0
fi
step gpu 20 nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
# the adapter Dawn finds, and the network's inference (also the first check that the kernels compile)
step infer 90 $isfuse bench infer --backend webgpu --size 480x640 --runs 10 --json
step torch-infer 60 $py tools/bench_torch_infer.py --size 480x640 --runs 10 --device cuda --json
# the five-pass step on webgpu (all of isfuse's kernels) against wasm: losses and every gradient
step parity 90 $tsx bench/webgpu-step-parity.ts --batch 2 --crop 64
step train-b8 100 $isfuse bench train --backend webgpu --batch 8 --crop 128 --warmup 1 --runs 3 --json
step torch-train-b8 45 $py tools/bench_torch_train.py --batch 8 --crop 128 --warmup 1 --repeats 3 --device cuda --json
step train-b16 120 $isfuse bench train --backend webgpu --batch 16 --crop 256 --warmup 1 --runs 3 --json
step torch-train-b16 45 $py tools/bench_torch_train.py --batch 16 --crop 256 --warmup 1 --repeats 3 --device cuda --json
# where the time goes (timestamp queries; all zeros if the device lacks them)
step profile-infer 60 $isfuse bench infer --backend webgpu --size 480x640 --runs 2 --profile
step profile-train 90 $isfuse bench train --backend webgpu --batch 8 --crop 128 --warmup 1 --runs 1 --profile
log "done $(date -u +%T)"
