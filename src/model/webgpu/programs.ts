/**
 * Program builders shared by isfuse's WebGPU kernels (TensorFlow.js webgpu programs: the backend writes the
 * bindings, `uniforms.<name>Shape` and `result`; the user code defines `main`).
 */
import type { WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';

/**
 * Workgroups [x, y, 1] covering `groups` (at most 65535 per dimension); tfjs's getGlobalIndex() flattens them.
 * (tfjs-backend-webgpu's own helper is not imported: loading that package before `navigator.gpu` exists would
 * keep its backend from registering in Node.)
 */
export function flatDispatch(groups: number): [number, number, number] {
  const x = Math.max(1, Math.min(groups, 65535));
  return [x, Math.ceil(groups / x), 1];
}

/**
 * The second pass of a reduction: partials [G, ..outShape] -> outShape, one thread per output adding its G
 * values (in a fixed order: deterministic). Uniform `parts` = G.
 */
export function sumPartialsProgram(key: string, outShape: number[]): WebGPUProgram {
  const size = outShape.reduce((a, b) => a * b, 1);
  return {
    outputShape: outShape,
    shaderKey: key,
    variableNames: ['P'],
    dispatchLayout: { x: outShape.map((_, i) => i) },
    dispatch: flatDispatch(Math.ceil(size / 64)),
    workgroupSize: [64, 1, 1],
    size: true,
    uniforms: 'parts : i32,',
    getUserCode: () => `
      fn main(index : i32) {
        if (index < uniforms.size) {
          var s = 0.0;
          for (var g = 0; g < uniforms.parts; g++) {
            s += P[g * uniforms.size + index];
          }
          result[index] = s;
        }
      }
    `,
  };
}

/**
 * An elementwise program over a [.., C] output whose value at flat index i, channel c = i % C is `expr`
 * (WGSL over the inputs by name). Uniforms: `channels` (C), then `uniforms`.
 */
export function channelMapProgram(key: string, variableNames: string[], shape: number[], expr: string, uniforms = '', helpers = ''): WebGPUProgram {
  const size = shape.reduce((a, b) => a * b, 1);
  return {
    outputShape: shape,
    shaderKey: key,
    variableNames,
    dispatchLayout: { x: shape.map((_, i) => i) },
    dispatch: flatDispatch(Math.ceil(size / 256)),
    workgroupSize: [256, 1, 1],
    size: true,
    uniforms: `channels : i32, ${uniforms}`,
    getUserCode: () => `
      ${helpers}
      fn main(i : i32) {
        if (i < uniforms.size) {
          let C = uniforms.channels;
          let c = i % C;
          result[i] = ${expr};
        }
      }
    `,
  };
}
