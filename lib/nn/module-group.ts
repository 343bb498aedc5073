// Several modules seen as one, with prefixed parameter names (like a PyTorch module holding
// submodules), e.g. TD3's twin critics under one optimiser: `q1.layers.0.weight`, `q2.layers.0.weight`.
import type { Param } from './layers.ts';
import type { Module } from './sequential.ts';

export class ModuleGroup implements Module {
  readonly members: Readonly<Record<string, Module>>;
  private readonly named: Param[];

  constructor(members: Record<string, Module>) {
    this.members = members;
    this.named = [];
    for (const [prefix, m] of Object.entries(members)) {
      if (!/^[A-Za-z0-9_]+$/.test(prefix))
        throw new RangeError(`ModuleGroup: invalid member name '${prefix}'`);
      for (const p of m.params()) {
        this.named.push({ name: `${prefix}.${p.name}`, shape: p.shape, value: p.value, grad: p.grad });
      }
    }
  }

  params(): Param[] {
    return this.named;
  }

  zeroGrad(): void {
    for (const p of this.named) p.grad.fill(0);
  }
}
