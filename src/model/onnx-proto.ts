/**
 * A minimal ONNX (opset 17) model writer: protobuf encoding of ModelProto's few fields and a graph builder.
 * Used by the inference graph (onnx.ts) and the training-step graph (train/onnx/).
 *
 * Written here rather than taken from npm: `onnx-proto` is a protobufjs codec for reading and writing whole
 * messages, not a graph builder, and would add protobufjs for ~100 lines of varints.
 */

// ---------------------------------------------------------------- protobuf wire format (encoder only)

class Pb {
  private chunks: Uint8Array[] = [];
  private len = 0;
  private push(b: Uint8Array): void {
    this.chunks.push(b);
    this.len += b.length;
  }
  private varint(v: number | bigint): void {
    let x = BigInt.asUintN(64, BigInt(v));
    const out: number[] = [];
    while (x >= 0x80n) {
      out.push(Number(x & 0x7fn) | 0x80);
      x >>= 7n;
    }
    out.push(Number(x));
    this.push(Uint8Array.from(out));
  }
  private tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }
  int(field: number, v: number | bigint): this {
    this.tag(field, 0);
    this.varint(v);
    return this;
  }
  float(field: number, v: number): this {
    this.tag(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.push(b);
    return this;
  }
  bytes(field: number, b: Uint8Array): this {
    this.tag(field, 2);
    this.varint(b.length);
    this.push(b);
    return this;
  }
  str(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }
  msg(field: number, m: Pb): this {
    return this.bytes(field, m.finish());
  }
  finish(): Uint8Array {
    const out = new Uint8Array(this.len);
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }
}

const FLOAT = 1;
const INT64 = 7;

export type AttrValue = number | number[] | string | { float: number };

function attribute(name: string, v: AttrValue): Pb {
  const a = new Pb().str(1, name);
  if (typeof v === 'string') return a.bytes(4, new TextEncoder().encode(v)).int(20, 3);
  if (Array.isArray(v)) {
    for (const x of v) a.int(8, x);
    return a.int(20, 7);
  }
  if (typeof v === 'object') return a.float(2, v.float).int(20, 1);
  return a.int(3, v).int(20, 2);
}

function tensorProto(name: string, dims: readonly number[], data: Float32Array | BigInt64Array): Pb {
  const t = new Pb();
  for (const d of dims) t.int(1, d);
  t.int(2, data instanceof Float32Array ? FLOAT : INT64);
  t.str(8, name);
  const raw = new Uint8Array(data.byteLength);
  const dv = new DataView(raw.buffer);
  if (data instanceof Float32Array) data.forEach((x, i) => dv.setFloat32(4 * i, x, true));
  else data.forEach((x, i) => dv.setBigInt64(8 * i, x, true));
  return t.bytes(9, raw);
}

/** A graph input or output: name, static shape, element type (float32 unless 'int64'). */
export function valueInfo(name: string, dims: readonly number[], type: 'float' | 'int64' = 'float'): Pb {
  const shape = new Pb();
  for (const d of dims) shape.msg(1, new Pb().int(1, d));
  const tensorType = new Pb().int(1, type === 'int64' ? INT64 : FLOAT).msg(2, shape);
  return new Pb().str(1, name).msg(2, new Pb().msg(1, tensorType));
}

/** A minimal graph builder: nodes, initializers, graph inputs/outputs. */
export class Graph {
  private nodes: Pb[] = [];
  private inits: Pb[] = [];
  private count = 0;
  readonly inputs: Pb[] = [];
  readonly outputs: Pb[] = [];

  const(name: string, dims: readonly number[], data: Float32Array | BigInt64Array): string {
    const n = `${name}__${this.count++}`;
    this.inits.push(tensorProto(n, dims, data));
    return n;
  }
  ints(name: string, values: readonly number[]): string {
    return this.const(name, [values.length], BigInt64Array.from(values.map(BigInt)));
  }
  op(type: string, inputs: readonly string[], attrs: Record<string, AttrValue> = {}, output?: string): string {
    return this.opN(type, inputs, 1, attrs, output ? [output] : undefined)[0]!;
  }
  /** A node with several outputs (e.g. MaxPool's values and indices). */
  opN(type: string, inputs: readonly string[], nOut: number, attrs: Record<string, AttrValue> = {}, outputs?: readonly string[]): string[] {
    const outs = outputs ? [...outputs] : Array.from({ length: nOut }, () => `${type.toLowerCase()}_${this.count++}`);
    const node = new Pb();
    for (const i of inputs) node.str(1, i);
    for (const o of outs) node.str(2, o);
    node.str(3, `${type}_${this.count++}`).str(4, type);
    for (const [k, v] of Object.entries(attrs)) node.msg(5, attribute(k, v));
    this.nodes.push(node);
    return outs;
  }
  model(name: string): Uint8Array {
    const g = new Pb();
    for (const n of this.nodes) g.msg(1, n);
    g.str(2, name);
    for (const t of this.inits) g.msg(5, t);
    for (const i of this.inputs) g.msg(11, i);
    for (const o of this.outputs) g.msg(12, o);
    return new Pb()
      .int(1, 8) // ir_version 8
      .str(2, 'isfuse')
      .str(3, '0.1.0')
      .msg(7, g)
      .msg(8, new Pb().str(1, '').int(2, 17)) // opset_import: ai.onnx 17
      .finish();
  }
}
