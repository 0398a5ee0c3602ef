#!/usr/bin/env bash
# Packs what a GPU session's device machine lacks into .dev/gpu/, to be carried there with dist/ (for the GPU
# measurements; docs/PERFORMANCE.md "WebGPU kernels"). The device machine has a GPU, Python with PyTorch and
# the NVIDIA Vulkan driver, but no Node, no node_modules and no Vulkan loader; the device tool carries 64 MiB.
#   node.xz          this machine's Node binary
#   modules.tar.xz   node_modules for dist/ and bench/*.ts: the production dependencies without onnxruntime-node
#                    (the CPU engine, 288 MB, unused there), tsx and esbuild, and webgpu (Dawn; linux-x64 only)
#   libvulkan1.deb   the Vulkan loader that Dawn opens
# Usage: tools/device/pack.sh   (then run tools/device/gpu-check.sh there, carrying .dev/gpu and dist)
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
WEBGPU=webgpu@0.6.2   # the Dawn build the Node checks of docs/PERFORMANCE.md used

grep -qx '.dev/' .git/info/exclude 2>/dev/null || echo '.dev/' >> .git/info/exclude   # never committed
out=.dev/gpu
rm -rf "$out" && mkdir -p "$out"
stage=$(mktemp -d) && trap 'rm -rf "$stage"' EXIT

echo "building dist/"
npm run --silent build

echo "webgpu ($WEBGPU) from the npm registry"
(cd "$stage" && npm init -y >/dev/null && npm install --silent --no-audit --no-fund "$WEBGPU" >/dev/null)
rm -rf "$stage"/node_modules/webgpu/dist/{darwin,win32,linux-arm64}*   # keep linux-x64's dawn.node

echo "node_modules"
# (esbuild's binary is an optional dependency, which npm ls leaves out)
mods=$({ npm ls --omit=dev --parseable --all; npm ls tsx esbuild --parseable --all; ls -d "$root"/node_modules/@esbuild/linux-x64; } \
  2>/dev/null | sed "s|^$root/||" | grep '^node_modules/' | grep -v '^node_modules/onnxruntime-node$' | sort -u)
# source maps, the browser bundles and type declarations are not needed to run
tar -cf "$stage/modules.tar" --exclude='*.map' --exclude='*.d.ts' --exclude='miniprogram' \
  --exclude='*.min.js' --exclude='*.es2017.js' $mods
tar -rf "$stage/modules.tar" -C "$stage" node_modules
xz -9 -T0 < "$stage/modules.tar" > "$out/modules.tar.xz"

echo "node ($(node --version))"
xz -9 -T0 < "$(command -v node)" > "$out/node.xz"

echo "libvulkan1 (Debian)"
(cd "$stage" && apt-get download libvulkan1 >/dev/null 2>&1) || { echo "apt-get download libvulkan1 failed (apt-get update first?)" >&2; exit 1; }
mv "$stage"/libvulkan1_*.deb "$out/libvulkan1.deb"

du -ch "$out"/* dist | tail -n 1 | sed 's/total/to carry (with dist\/), besides the tracked tree:/'
