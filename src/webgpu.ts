/**
 * `isfuse/webgpu`: isfuse's WebGPU kernels for a page or program that starts TensorFlow.js's webgpu backend
 * itself (isfuse's own backend 'webgpu' installs them). A separate entry because it loads TensorFlow.js, which
 * `import 'isfuse'` does not (test/entry.test.ts).
 */
export { installWebGpuKernels, uninstallWebGpuKernels } from './model/webgpu/index.js';
