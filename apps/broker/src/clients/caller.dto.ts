import { ApiProperty } from '@nestjs/swagger';

export const CALLER_KINDS = ['api_key', 'service_account'] as const;
export type CallerKind = (typeof CALLER_KINDS)[number];

/** The calling service a credential stands for; never a secret. */
export class CallerView {
  /**
   * The client's name.
   * @example "billing-service"
   */
  name: string;

  /** How the caller authenticated: a client API key or a Kubernetes ServiceAccount token. */
  @ApiProperty({ enum: CALLER_KINDS, example: 'service_account' })
  kind: CallerKind;

  /**
   * Connection keys this caller may read, or `["*"]` for all.
   * @example ["bloomerang-acme"]
   */
  connections: string[];
}
