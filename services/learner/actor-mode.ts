// Online TD3 in actor mode: simulators act on their own with policy snapshots and stream numbered
// transition batches; the learner stores them, acknowledges them once stored, and updates the agent at a
// fixed update-to-data ratio. Top to bottom:
//   1. discovery   every `discoverEveryMs`, connect to live simulators (from their heartbeats) we have no
//                  link to, send them the current policy, and start a reader for their stream;
//   2. readers     one per simulator: push each batch into one queue; a stream error ends that link only
//                  (the simulator is reconnected later from its last acked seq, if it is still alive);
//   3. main loop   take a batch, check its seq against the link's (duplicates skipped, gaps counted),
//                  add its rows to the replay buffer, ack it, then make the updates owed;
//   4. policy sync every `policySyncEvery` updates, a fresh snapshot to every linked simulator.
// Acks and snapshots are not awaited: each link has one call of each in flight, the newest request
// replacing an older pending one (acks are cumulative, a snapshot supersedes the last), so a simulator
// that hangs holds its own calls, not the loop; a failed call drops that link.
//   5. evaluation  every `evalEvery` transitions, in-process.
import { deriveSeed } from '../../lib/envs/rng.ts';
import type { Env } from '../../lib/envs/types.ts';
import { type EvaluationResult, evaluatePolicy } from '../../lib/rl/evaluate.ts';
import { ReplayBuffer } from '../../lib/rl/replay-buffer.ts';
import type { Td3Agent } from '../../lib/rl/td3.ts';
import { policySnapshotFromAgent, SimulatorClient, type Transitions } from '../simulator/client.ts';
import type { LiveSimulator } from '../simulator/watch.ts';
import { CoalescingCaller } from './coalescing-caller.ts';

export interface ActorModeConfig {
  /** Transitions to collect. */
  totalSteps: number;
  /** From scratch: simulators act uniformly at random (policy version 0) for this many transitions. */
  startSteps: number;
  /** Transitions stored before the first update (fine-tuning). */
  warmupSteps: number;
  /** Updates per stored transition. */
  updateToData: number;
  /** Updates between policy snapshots. */
  policySyncEvery: number;
  explorationNoise: number;
  batchSize: number;
  replayCapacity: number;
  evalEvery: number;
  evalEpisodes: number;
  seed: number;
  /** How often the live simulators are looked at (ms). */
  discoverEveryMs?: number;
}

/** Where simulators come from: e.g. `watchSimulators(nc, { envId })`. */
export interface SimulatorDirectory {
  live(): Map<string, LiveSimulator>;
}

/** Batches seen from one simulator incarnation. */
export interface SimulatorTally {
  simulatorId: string;
  incarnation: number;
  batches: number;
  rows: number;
  firstSeq: number;
  lastSeq: number;
  /** Batches received again (after a reconnect) and skipped. */
  duplicates: number;
  /** Seqs that never arrived (must stay 0). */
  gaps: number;
  streamErrors: number;
  /** Stored rows flagged terminated by the environment. */
  terminals: number;
  /**
   * Stored rows of episodes not finished (yet): when the simulator dies, these are its cut episodes.
   * They stay in the replay buffer as the environment flagged them (not terminated), so TD bootstraps
   * through their last state as it does for a time-limit truncation; no terminal is made up for them.
   */
  openEpisodeRows: number;
}

export interface ActorModeHooks {
  onEvaluation?(step: number, result: EvaluationResult): void;
  onProgress?(p: { step: number; updates: number; simulators: number; tallies: SimulatorTally[] }): void;
  log?(message: string): void;
  /** True ends the run early (shutdown). */
  stopping?(): boolean;
}

export interface ActorModeResult {
  steps: number;
  updates: number;
  episodes: number;
  evaluations: { step: number; result: EvaluationResult }[];
  tallies: SimulatorTally[];
  replaySize: number;
  interrupted: boolean;
}

interface Link {
  /** Rows since the last episode end, per sub-env of the simulator incarnation. */
  openRows: Map<number, number>;
  key: string;
  index: number;
  id: string;
  incarnation: number;
  client: SimulatorClient;
  /** Next seq expected from this incarnation; 0 until the first batch of a fresh link sets it. */
  nextSeq: number;
  tally: SimulatorTally;
  closed: boolean;
  acks: CoalescingCaller;
  policy: CoalescingCaller;
}

/** How long a finishing run waits for its last acks to land before closing the links. */
const FINAL_ACK_WAIT_MS = 3_000;

interface Arrival {
  link: Link;
  batch: Transitions;
}

/** A queue of arrivals with a timed wait, fed by the readers. */
class ArrivalQueue {
  private items: Arrival[] = [];
  private wake: (() => void) | undefined;
  push(a: Arrival): void {
    this.items.push(a);
    this.wake?.();
  }
  async take(timeoutMs: number): Promise<Arrival | undefined> {
    if (this.items.length === 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
    return this.items.shift();
  }
}

export async function trainActorMode(
  directory: SimulatorDirectory,
  evalEnv: Env,
  agent: Td3Agent,
  config: ActorModeConfig,
  hooks: ActorModeHooks = {},
): Promise<ActorModeResult> {
  const { obsDim, actDim } = agent.config;
  const log = hooks.log ?? (() => {});
  const replay = new ReplayBuffer({
    obsDim,
    actDim,
    capacity: config.replayCapacity,
    seed: deriveSeed(config.seed, 1),
  });
  const queue = new ArrivalQueue();
  const links = new Map<string, Link>();
  const tallies = new Map<string, SimulatorTally>();
  /** Last stored seq per simulator incarnation: a reconnect acks it and streams from the next one. */
  const stored = new Map<string, number>();
  const retryAfter = new Map<string, number>();
  const openRowsOf = new Map<string, Map<number, number>>();
  const evaluations: ActorModeResult['evaluations'] = [];
  // Simulators accept only newer versions than the last they saw (possibly from an earlier run or
  // learner), so versions start from the clock: ms · 1000 stays below 2^53 for millennia.
  const versionBase = Date.now() * 1000;
  let policyCount = 0;
  let steps = 0;
  let updates = 0;
  let updateDebt = 0;
  let episodes = 0;
  let linkCount = 0;

  const policyActive = () => policyCount > 0;
  // Each simulator explores with its own noise stream: the seed depends on the version and the link.
  const snapshotFor = (link: Link) =>
    policySnapshotFromAgent(agent, {
      policyVersion: versionBase + policyCount,
      explorationNoise: config.explorationNoise,
      seed: deriveSeed(deriveSeed(config.seed, 7), policyCount * 1024 + (link.index % 1024)),
    });
  // The snapshot is taken when the call starts, so a coalesced request sends the newest weights.
  const sendPolicy = (link: Link) => link.policy.request(() => link.client.setPolicy(snapshotFor(link)));
  const broadcastPolicy = () => {
    policyCount++;
    for (const link of links.values()) sendPolicy(link);
  };
  const drop = (link: Link, why: string) => {
    if (link.closed) return;
    link.closed = true;
    link.tally.streamErrors++;
    links.delete(link.key);
    retryAfter.set(link.key, Date.now() + 1_000);
    link.client.close();
    const cut = link.tally.openEpisodeRows;
    log(
      `simulator ${link.key} dropped (${why}); the run goes on` +
        (cut > 0 ? `; its unfinished episodes (${cut} stored rows) stay in the replay buffer, cut` : ''),
    );
  };

  // 1 + 2: discovery and one reader per linked simulator.
  const read = async (link: Link, fromSeq: number) => {
    try {
      for await (const batch of link.client.streamTransitions(fromSeq)) {
        if (link.closed) return;
        queue.push({ link, batch });
      }
      drop(link, 'stream ended');
    } catch (e) {
      drop(link, (e as Error).message);
    }
  };
  const discover = async () => {
    for (const [id, sim] of directory.live()) {
      const hb = sim.heartbeat;
      const key = `${id}#${hb.incarnation}`;
      if (links.has(key) || (retryAfter.get(key) ?? 0) > Date.now() || hb.mode === 'lockstep') continue;
      let client: SimulatorClient;
      try {
        client = await SimulatorClient.connect(hb.address, { connectTimeoutMs: 3_000 });
      } catch (e) {
        retryAfter.set(key, Date.now() + 1_000);
        log(`cannot connect to simulator ${key} at ${hb.address}: ${(e as Error).message}`);
        continue;
      }
      if (client.meta.obsDim !== obsDim || client.meta.actDim !== actDim) {
        client.close();
        retryAfter.set(key, Number.POSITIVE_INFINITY);
        log(`simulator ${key} has dims ${client.meta.obsDim}/${client.meta.actDim}; ignored`);
        continue;
      }
      const tally =
        tallies.get(key) ??
        ({
          simulatorId: id,
          incarnation: hb.incarnation,
          batches: 0,
          rows: 0,
          firstSeq: 0,
          lastSeq: 0,
          duplicates: 0,
          gaps: 0,
          streamErrors: 0,
          terminals: 0,
          openEpisodeRows: 0,
        } satisfies SimulatorTally);
      tallies.set(key, tally);
      const link: Link = {
        key,
        id,
        incarnation: hb.incarnation,
        client,
        index: linkCount++,
        // A simulator new to this run streams from its oldest unacked batch (seq 0 asks for that).
        nextSeq: stored.has(key) ? stored.get(key)! + 1 : 0,
        tally,
        closed: false,
        acks: new CoalescingCaller((e) => drop(link, `Ack failed: ${e.message}`)),
        policy: new CoalescingCaller((e) => drop(link, `SetPolicy failed: ${e.message}`)),
        // Per incarnation, not per link: an episode goes on across a relink.
        openRows: openRowsOf.get(key) ?? new Map(),
      };
      openRowsOf.set(key, link.openRows);
      links.set(key, link);
      log(`simulator ${key} linked at ${hb.address}`);
      const last = stored.get(key);
      if (last !== undefined) await link.client.ack(last).catch(() => {});
      if (policyActive()) sendPolicy(link);
      void read(link, link.nextSeq);
    }
  };

  const evaluate = (step: number) => {
    const result = evaluatePolicy(
      evalEnv,
      (o) => agent.act(o),
      config.evalEpisodes,
      deriveSeed(config.seed, 3),
    );
    evaluations.push({ step, result });
    hooks.onEvaluation?.(step, result);
  };

  evaluate(0);
  if (config.startSteps === 0) broadcastPolicy();
  const discoverEvery = config.discoverEveryMs ?? 250;
  let lastDiscovery = 0;
  let interrupted = false;
  try {
    // 3: the main loop.
    while (steps < config.totalSteps) {
      if (hooks.stopping?.()) {
        interrupted = true;
        break;
      }
      if (Date.now() - lastDiscovery >= discoverEvery) {
        lastDiscovery = Date.now();
        await discover();
      }
      const arrival = await queue.take(discoverEvery);
      if (arrival === undefined || arrival.link.closed) continue;
      const { link, batch } = arrival;
      if (link.nextSeq === 0) link.nextSeq = batch.seq;
      if (batch.seq < link.nextSeq) {
        link.tally.duplicates++;
        continue;
      }
      if (batch.seq > link.nextSeq) {
        link.tally.gaps += batch.seq - link.nextSeq;
        log(`simulator ${link.key}: seqs ${link.nextSeq}..${batch.seq - 1} missing`);
      }
      const rows = Math.min(batch.rows, config.totalSteps - steps);
      for (let r = 0; r < rows; r++) {
        replay.add(
          batch.obs.subarray(r * obsDim, (r + 1) * obsDim),
          batch.actions.subarray(r * actDim, (r + 1) * actDim),
          batch.rewards[r]!,
          batch.nextObs.subarray(r * obsDim, (r + 1) * obsDim),
          batch.terminated[r] === 1,
        );
        const env = batch.envIndex[r] ?? 0;
        if (batch.terminated[r] === 1) link.tally.terminals++;
        const ended = batch.terminated[r] === 1 || batch.truncated[r] === 1;
        link.openRows.set(env, ended ? 0 : (link.openRows.get(env) ?? 0) + 1);
      }
      link.tally.openEpisodeRows = [...link.openRows.values()].reduce((a, b) => a + b, 0);
      if (link.tally.batches === 0) link.tally.firstSeq = batch.seq;
      link.tally.batches++;
      link.tally.rows += rows;
      link.tally.lastSeq = batch.seq;
      link.nextSeq = batch.seq + 1;
      episodes += batch.episodeReturns.length;
      stored.set(link.key, batch.seq);
      const seq = batch.seq;
      link.acks.request(() => link.client.ack(seq));
      const before = steps;
      steps += rows;
      if (!policyActive() && steps >= config.startSteps) broadcastPolicy();
      if (steps > config.startSteps + config.warmupSteps) {
        updateDebt += rows * config.updateToData;
        while (updateDebt >= 1) {
          agent.update(replay.sample(config.batchSize));
          updates++;
          updateDebt--;
          // 4: policy sync.
          if (updates % config.policySyncEvery === 0) broadcastPolicy();
        }
      }
      hooks.onProgress?.({ step: steps, updates, simulators: links.size, tallies: [...tallies.values()] });
      // 5: evaluation at every multiple of evalEvery crossed by this batch.
      if (Math.floor(steps / config.evalEvery) > Math.floor(before / config.evalEvery)) evaluate(steps);
    }
  } finally {
    // Let the last acks land (the simulators then hold nothing the learner stored), within a bound.
    const open = [...links.values()];
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(open.map((l) => l.acks.settled())),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, FINAL_ACK_WAIT_MS);
      }),
    ]);
    clearTimeout(timer);
    for (const link of [...links.values()]) {
      link.closed = true;
      link.client.close();
    }
  }
  return {
    steps,
    updates,
    episodes,
    evaluations,
    tallies: [...tallies.values()],
    replaySize: replay.size,
    interrupted,
  };
}
