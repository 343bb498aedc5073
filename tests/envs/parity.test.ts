// The project's own MJCF files against Gymnasium's (the oracle, kept outside the repository): the
// compiled models must agree field by field, and trajectories driven by the same seeded random actions
// must agree on qpos and qvel to 1e-9 at every env step.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ModelAsset, readModelXml } from '../../lib/envs/assets.ts';
import { compileModel, type MjData, type MjModel, mujoco } from '../../lib/envs/mujoco.ts';
import { Rng } from '../../lib/envs/rng.ts';
import { requireGymnasiumModels } from '../helpers/shared-reference.ts';

interface ParityCase {
  asset: ModelAsset;
  referenceFile: string;
  frameSkip: number;
}

const CASES: ParityCase[] = [
  { asset: 'hopper', referenceFile: 'hopper.xml', frameSkip: 4 },
  { asset: 'walker2d', referenceFile: 'walker2d_v5.xml', frameSkip: 4 },
  { asset: 'half_cheetah', referenceFile: 'half_cheetah.xml', frameSkip: 5 },
  { asset: 'ant', referenceFile: 'ant.xml', frameSkip: 5 },
  { asset: 'inverted_pendulum', referenceFile: 'inverted_pendulum.xml', frameSkip: 2 },
  { asset: 'inverted_double_pendulum', referenceFile: 'inverted_double_pendulum.xml', frameSkip: 5 },
];

const ENV_STEPS = 1000;
const TOLERANCE = 1e-9;

// Model fields that decide the physics. Rendering-only fields (colours, materials, textures, cameras,
// lights, names) may differ between the two files and are not compared.
const PHYSICS_PREFIXES = ['body_', 'jnt_', 'dof_', 'geom_', 'site_', 'actuator_', 'tendon_', 'eq_', 'pair_'];
const IGNORED = new Set([
  'body_user',
  'jnt_user',
  'geom_user',
  'site_user',
  'actuator_user',
  'tendon_user',
  'geom_rgba',
  'geom_matid',
  'geom_group',
  'site_rgba',
  'site_matid',
  'site_group',
]);
const COUNTS = [
  'nq',
  'nv',
  'nu',
  'na',
  'nbody',
  'njnt',
  'ngeom',
  'nsite',
  'ntendon',
  'neq',
  'npair',
  'nexclude',
];
const OPTIONS = [
  'timestep',
  'impratio',
  'tolerance',
  'integrator',
  'cone',
  'jacobian',
  'solver',
  'iterations',
];
const OPTION_VECTORS = ['gravity', 'wind', 'magnetic', 'o_solref', 'o_solimp'];
// Fields the comparison must cover; if a mujoco-js upgrade renamed one, the check would silently shrink.
const REQUIRED_FIELDS = [
  'qpos0',
  'body_mass',
  'body_inertia',
  'body_pos',
  'body_quat',
  'geom_type',
  'geom_size',
  'geom_friction',
  'geom_pos',
  'geom_quat',
  'geom_condim',
  'geom_solref',
  'geom_solimp',
  'jnt_range',
  'jnt_stiffness',
  'dof_damping',
  'dof_armature',
  'actuator_gear',
  'actuator_ctrlrange',
];

function modelFieldNames(model: MjModel): string[] {
  const names = new Set<string>();
  for (let p = Object.getPrototypeOf(model); p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    for (const n of Object.getOwnPropertyNames(p)) names.add(n);
  }
  return [...names].filter(
    (n) =>
      (n === 'qpos0' || n === 'qpos_spring' || PHYSICS_PREFIXES.some((p) => n.startsWith(p))) &&
      !IGNORED.has(n),
  );
}

function compareModels(ours: MjModel, reference: MjModel): string[] {
  const o = ours as unknown as Record<string, unknown>;
  const r = reference as unknown as Record<string, unknown>;
  const problems: string[] = [];
  for (const n of COUNTS) if (o[n] !== r[n]) problems.push(`${n}: ${String(o[n])} vs ${String(r[n])}`);
  if (problems.length > 0) return problems; // array fields cannot be compared when sizes differ
  const oo = ours.opt as unknown as Record<string, unknown>;
  const ro = reference.opt as unknown as Record<string, unknown>;
  for (const n of OPTIONS)
    if (oo[n] !== ro[n]) problems.push(`opt.${n}: ${String(oo[n])} vs ${String(ro[n])}`);
  for (const n of OPTION_VECTORS) {
    const a = Array.from(oo[n] as ArrayLike<number>);
    const b = Array.from(ro[n] as ArrayLike<number>);
    if (a.some((v, i) => v !== b[i])) problems.push(`opt.${n}: ${a} vs ${b}`);
  }
  const fields = modelFieldNames(ours).filter((n) => ArrayBuffer.isView(o[n]));
  for (const n of REQUIRED_FIELDS) if (!fields.includes(n)) problems.push(`${n}: not exposed by mujoco-js`);
  for (const n of fields) {
    const a = o[n] as ArrayLike<number>;
    const b = r[n] as ArrayLike<number>;
    if (a.length !== b.length) {
      problems.push(`${n}: length ${a.length} vs ${b.length}`);
      continue;
    }
    for (let i = 0; i < a.length; i++) {
      const x = a[i]!;
      const y = b[i]!;
      // Derived quantities (inertias, invweights, bounding boxes) may differ in the last bits.
      if (x !== y && !(Math.abs(x - y) <= 1e-12 * Math.max(1, Math.abs(y)))) {
        problems.push(`${n}[${i}]: ${x} vs ${y}`);
        break;
      }
    }
  }
  return problems;
}

function maxAbsDiff(a: Float64Array, b: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('model parity with Gymnasium', () => {
  let referenceDir = '';
  before(function () {
    referenceDir = requireGymnasiumModels(this);
  });

  for (const c of CASES) {
    describe(c.asset, () => {
      let ours: MjModel;
      let reference: MjModel;
      const datas: MjData[] = [];
      before(() => {
        ours = compileModel(readModelXml(c.asset), `${c.asset} (project)`);
        reference = compileModel(
          readFileSync(join(referenceDir, c.referenceFile), 'utf8'),
          `${c.asset} (ref)`,
        );
      });
      after(() => {
        for (const d of datas) d.delete();
        ours?.delete();
        reference?.delete();
      });

      it('compiles to the same physical model', () => {
        const problems = compareModels(ours, reference);
        assert.deepEqual(problems, [], `fields that differ:\n  ${problems.join('\n  ')}`);
      });

      it(`follows the same trajectory for ${ENV_STEPS} env steps of seeded random actions`, () => {
        const a = new mujoco.MjData(ours);
        const b = new mujoco.MjData(reference);
        datas.push(a, b);
        const rng = new Rng(12345);
        const nq = ours.nq;
        const nv = ours.nv;
        const qpos0 = ours.qpos0 as Float64Array;
        const start = new Float64Array(nq + nv);
        for (let i = 0; i < nq; i++) start[i] = qpos0[i]! + rng.uniform(-0.05, 0.05);
        for (let i = 0; i < nv; i++) start[nq + i] = 0.1 * rng.normal();
        for (const [m, d] of [
          [ours, a],
          [reference, b],
        ] as const) {
          (d.qpos as Float64Array).set(start.subarray(0, nq));
          (d.qvel as Float64Array).set(start.subarray(nq));
          mujoco.mj_forward(m, d);
        }
        const range = ours.actuator_ctrlrange as Float64Array;
        const action = new Float64Array(ours.nu);
        for (let step = 0; step < ENV_STEPS; step++) {
          for (let i = 0; i < action.length; i++) action[i] = rng.uniform(range[2 * i]!, range[2 * i + 1]!);
          for (const [m, d] of [
            [ours, a],
            [reference, b],
          ] as const) {
            (d.ctrl as Float64Array).set(action);
            for (let k = 0; k < c.frameSkip; k++) mujoco.mj_step(m, d);
            mujoco.mj_rnePostConstraint(m, d);
          }
          const dq = maxAbsDiff(a.qpos as Float64Array, b.qpos as Float64Array);
          const dv = maxAbsDiff(a.qvel as Float64Array, b.qvel as Float64Array);
          const df = maxAbsDiff(a.cfrc_ext as Float64Array, b.cfrc_ext as Float64Array);
          assert.ok(dq <= TOLERANCE, `qpos differs by ${dq} at env step ${step}`);
          assert.ok(dv <= TOLERANCE, `qvel differs by ${dv} at env step ${step}`);
          assert.ok(df <= TOLERANCE * 1e3, `cfrc_ext differs by ${df} at env step ${step}`);
        }
      });
    });
  }
});
