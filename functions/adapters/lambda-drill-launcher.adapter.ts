/**
 * Starts the drill function on a requested drill without waiting for it: Lambda's asynchronous
 * invocation (`InvocationType: Event`): "Invoke the function asynchronously … The API response only
 * includes a status code" (Lambda API Reference, Invoke; CDK `LambdaInvocationType.EVENT`), 202 when
 * Lambda queued the event. Needed because API Gateway ends a REST integration after 29 seconds by
 * default (API Gateway quotas; AWS What's New 2024-06, "integration timeout limit increase beyond 29
 * seconds": raising it needs a quota change and only applies to Regional and private REST APIs),
 * while a drill takes from seconds (revoke) to minutes (expire).
 */
import { InvokeCommand, LambdaClient, type LambdaClientConfig } from '@aws-sdk/client-lambda';
import type { DrillLauncher, DrillRequest } from '../domain/drill.js';
import { clientDefaults } from './client-defaults.js';

/** What the drill function receives for a requested drill (`run-drill.ts`). */
export interface DrillStartEvent {
  readonly source: 'breakglass.drill-start';
  readonly request: DrillRequest;
}

export class LambdaDrillLauncher implements DrillLauncher {
  private readonly client: LambdaClient;

  constructor(
    private readonly options: {
      functionName: string;
      awsSdkV3Client?: LambdaClient;
      clientConfig?: LambdaClientConfig;
    },
  ) {
    this.client = options.awsSdkV3Client ?? new LambdaClient({ ...clientDefaults(), ...options.clientConfig });
  }

  async launch(request: DrillRequest): Promise<void> {
    const event: DrillStartEvent = { source: 'breakglass.drill-start', request };
    const res = await this.client.send(
      new InvokeCommand({
        FunctionName: this.options.functionName,
        InvocationType: 'Event',
        Payload: new TextEncoder().encode(JSON.stringify(event)),
      }),
    );
    if (res.StatusCode !== 202) throw new Error(`Lambda did not queue the drill (status ${res.StatusCode ?? 'none'})`);
  }
}
