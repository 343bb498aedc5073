// Row-major Float32 matrices: element (r, c) is data[r * cols + c]. A Matrix only names a shape over a
// Float32Array; wrapping an existing array (e.g. a replay-buffer batch) copies nothing.

export class Matrix {
  readonly rows: number;
  readonly cols: number;
  readonly data: Float32Array;

  constructor(rows: number, cols: number, data?: Float32Array) {
    if (!Number.isInteger(rows) || rows < 0)
      throw new RangeError(`Matrix: rows must be an integer >= 0, got ${rows}`);
    if (!Number.isInteger(cols) || cols < 0)
      throw new RangeError(`Matrix: cols must be an integer >= 0, got ${cols}`);
    if (data !== undefined && data.length !== rows * cols) {
      throw new RangeError(
        `Matrix: data has ${data.length} elements, expected ${rows}x${cols} = ${rows * cols}`,
      );
    }
    this.rows = rows;
    this.cols = cols;
    this.data = data ?? new Float32Array(rows * cols);
  }

  static from(rows: number, cols: number, values: ArrayLike<number>): Matrix {
    return new Matrix(rows, cols, Float32Array.from(values));
  }

  get(r: number, c: number): number {
    return this.data[r * this.cols + c]!;
  }

  set(r: number, c: number, v: number): void {
    this.data[r * this.cols + c] = v;
  }

  fill(v: number): this {
    this.data.fill(v);
    return this;
  }

  copyFrom(src: Matrix): this {
    assertSameShape(src, this, 'Matrix.copyFrom');
    this.data.set(src.data);
    return this;
  }

  clone(): Matrix {
    return new Matrix(this.rows, this.cols, this.data.slice());
  }
}

export function assertSameShape(a: Matrix, b: Matrix, where: string): void {
  if (a.rows !== b.rows || a.cols !== b.cols) {
    throw new RangeError(`${where}: shape mismatch ${a.rows}x${a.cols} vs ${b.rows}x${b.cols}`);
  }
}

export function assertCols(x: Matrix, cols: number, where: string): void {
  if (x.cols !== cols) throw new RangeError(`${where}: expected ${cols} columns, got ${x.rows}x${x.cols}`);
}

/**
 * One preallocated matrix per batch size, so steady-state passes allocate nothing and alternating
 * batch sizes (training batch vs. a single acting row) each allocate once.
 */
export class BufferCache {
  private readonly byRows = new Map<number, Matrix>();

  get(rows: number, cols: number): Matrix {
    let m = this.byRows.get(rows);
    if (m === undefined || m.cols !== cols) {
      m = new Matrix(rows, cols);
      this.byRows.set(rows, m);
    }
    return m;
  }
}
