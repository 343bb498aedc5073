import assert from 'node:assert/strict';
import { deriveSeed, Rng } from '../../lib/envs/rng.ts';

describe('envs/rng', () => {
  it('matches the reference xoshiro128** (splitmix64-seeded) outputs for seed 42', () => {
    // From the authors' C code (xoshiro128starstar.c with state filled by splitmix64.c from 42).
    const rng = new Rng(42);
    const got = Array.from({ length: 5 }, () => rng.nextUint32());
    assert.deepEqual(got, [1776835114, 4165204688, 17111135, 2317295270, 2792088233]);
  });

  it('repeats a stream for the same seed and restarts it on reseed', () => {
    const a = new Rng(7);
    const b = new Rng(7);
    const first = Array.from({ length: 10 }, () => a.uniform(-1, 1));
    assert.deepEqual(
      Array.from({ length: 10 }, () => b.uniform(-1, 1)),
      first,
    );
    a.reseed(7);
    assert.deepEqual(
      Array.from({ length: 10 }, () => a.uniform(-1, 1)),
      first,
    );
    assert.notDeepEqual(
      Array.from({ length: 10 }, () => new Rng(8).uniform(-1, 1)),
      first,
    );
  });

  it('draws uniforms inside [low, high) and normals with mean 0, variance 1', () => {
    const rng = new Rng(3);
    let sum = 0;
    let sumSq = 0;
    const n = 20_000;
    for (let i = 0; i < n; i++) {
      const u = rng.uniform(-0.1, 0.3);
      assert.ok(u >= -0.1 && u < 0.3, `uniform out of range: ${u}`);
      const z = rng.normal();
      sum += z;
      sumSq += z * z;
    }
    const mean = sum / n;
    const variance = sumSq / n - mean * mean;
    // Standard error of the mean is 1/sqrt(n) ~ 0.007; of the variance ~ sqrt(2/n) ~ 0.01.
    assert.ok(Math.abs(mean) < 0.04, `mean ${mean}`);
    assert.ok(Math.abs(variance - 1) < 0.05, `variance ${variance}`);
  });

  it('derives distinct, reproducible child seeds that are valid seeds', () => {
    const seen = new Set<number>();
    for (const parent of [0, 1, 2, 123456789]) {
      for (let i = 0; i < 50; i++) {
        const child = deriveSeed(parent, i);
        assert.equal(child, deriveSeed(parent, i));
        assert.ok(Number.isSafeInteger(child) && child >= 0);
        seen.add(child);
      }
    }
    assert.equal(seen.size, 200);
  });

  it('rejects seeds that are not non-negative safe integers', () => {
    for (const bad of [-1, 1.5, Number.NaN, 2 ** 53]) {
      assert.throws(() => new Rng(bad), /seed must be a non-negative integer/);
    }
  });
});

describe('envs/rng state', () => {
  it('resumes a stream exactly from a saved state and rejects invalid states', () => {
    const a = new Rng(11);
    for (let i = 0; i < 7; i++) a.nextUint32();
    const saved = a.getState();
    const expected = [a.nextUint32(), a.nextUint32(), a.normal()];
    const b = new Rng(0);
    b.setState(saved);
    assert.deepEqual([b.nextUint32(), b.nextUint32(), b.normal()], expected);
    assert.throws(() => b.setState([0, 0, 0, 0]), /all-zero/);
    assert.throws(() => b.setState([1, 2, 3]), /four 32-bit words/);
  });
});
