/**
 * isfuse's WebGPU kernels, installed together for the 'webgpu' backend (src/model/backend.ts does so when it
 * starts webgpu; a page that starts TensorFlow.js's webgpu backend itself calls {@link installWebGpuKernels}).
 */
import { installWebGpuAttentionKernel, uninstallWebGpuAttentionKernel } from './attention.js';
import { installWebGpuBatchNormKernels, uninstallWebGpuBatchNormKernels } from './batchnorm.js';
import { installWebGpuConvKernels, uninstallWebGpuConvKernels } from './conv3x3.js';

/**
 * The 3x3 convolution kernels (conv3x3.ts), the fused BatchNorm + LeakyReLU kernels (batchnorm.ts) and the
 * one-pass pooled attention (attention.ts).
 */
export function installWebGpuKernels(): void {
  installWebGpuConvKernels();
  installWebGpuBatchNormKernels();
  installWebGpuAttentionKernel();
}

/** Back to TensorFlow.js's own webgpu kernels. */
export function uninstallWebGpuKernels(): void {
  uninstallWebGpuConvKernels();
  uninstallWebGpuBatchNormKernels();
  uninstallWebGpuAttentionKernel();
}
