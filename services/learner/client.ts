// A small client of the learner's gRPC API (Status, Evaluate), with a deadline on every call.
import { Metadata, type ServiceError } from '@grpc/grpc-js';
import {
  LearnerClient,
  type LearnerEvaluateRequest,
  type LearnerEvaluateResponse,
  type LearnerStatusResponse,
} from '../../generated/proto/o2o/v1/learner.js';
import { type ClientTls, channelCredentials, defaultClientTls } from '../../lib/services/grpc-security.ts';
import { injectIntoMetadata } from '../../lib/telemetry/propagation.ts';

export class LearnerServiceClient {
  private readonly client: InstanceType<typeof LearnerClient>;

  constructor(
    readonly address: string,
    private readonly deadlineMs = 30_000,
    /** TLS to dial with; undefined: this process's O2O_TLS_* settings; null: plaintext. */
    tls?: ClientTls | null,
  ) {
    const channel = channelCredentials(tls === undefined ? defaultClientTls() : (tls ?? undefined));
    this.client = new LearnerClient(address, channel.credentials, {
      ...channel.options,
      'grpc.max_receive_message_length': 64 << 20,
    });
  }

  status(): Promise<LearnerStatusResponse> {
    return new Promise((resolve, reject) =>
      this.client.status({}, this.metadata(), { deadline: Date.now() + this.deadlineMs }, (e, r) =>
        e ? reject(e) : resolve(r),
      ),
    );
  }

  evaluate(req: LearnerEvaluateRequest, deadlineMs = 120_000): Promise<LearnerEvaluateResponse> {
    return new Promise((resolve, reject) =>
      this.client.evaluate(
        req,
        this.metadata(),
        { deadline: Date.now() + deadlineMs },
        (e: ServiceError | null, r) => (e ? reject(e) : resolve(r)),
      ),
    );
  }

  close(): void {
    this.client.close();
  }

  private metadata(): Metadata {
    const md = new Metadata();
    injectIntoMetadata(md);
    return md;
  }
}
