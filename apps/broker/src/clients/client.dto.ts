import { Optional } from '../common/optional';
import { ApiProperty } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsString,
  Matches,
  MaxLength,
  MinLength,
} from 'class-validator';

export class CreateClientDto {
  /**
   * What the calling service is, for the admin's eyes.
   * @example "billing-service"
   */
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  name: string;

  /**
   * Connection keys this client may read, or `["*"]` for all.
   * @example ["bloomerang-acme"]
   */
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(1000)
  @IsString({ each: true })
  @Matches(/^(\*|[a-z0-9][a-z0-9_-]{0,62})$/, {
    each: true,
    message: 'each value in connections must be a connection key or "*"',
  })
  connections: string[];

  /**
   * Lets pods running as this Kubernetes ServiceAccount call with their projected token.
   * @example "billing/billing-service"
   */
  @Optional()
  @IsString()
  @Matches(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?\/[a-z0-9]([-.a-z0-9]*[a-z0-9])?$/, {
    message: 'serviceAccount must be "namespace/name" as Kubernetes spells them',
  })
  @MaxLength(253)
  serviceAccount?: string;

  /**
   * Whether to issue an API key (default true); false needs a serviceAccount.
   * @example true
   */
  @Optional()
  @IsBoolean()
  apiKey?: boolean;
}

export class ClientView {
  @ApiProperty({ format: 'uuid', example: '3f6c2a0e-8d1b-4e57-9c2a-5b7e1d0f4a86' })
  id: string;
  /** @example "billing-service" */
  name: string;
  /** @example ["bloomerang-acme"] */
  connections: string[];
  /**
   * The public start of the API key, to tell keys apart; null when the client has no key.
   * @example "tbk_4Jd9QzX2mP7a"
   */
  apiKeyPrefix: string | null;
  /**
   * The Kubernetes ServiceAccount bound to this client, as `namespace/name`.
   * @example "billing/billing-service"
   */
  serviceAccount: string | null;
  /** @example "2026-05-04T09:30:00.000Z" */
  createdAt: Date;
}

export class CreatedClientView extends ClientView {
  /**
   * The API key: shown this once, stored only as a hash. Send it as `Authorization: Bearer <apiKey>`.
   * @example "tbk_4Jd9QzX2mP7a_q8Wm3vN0bY7tR5pL2kH9sD4fG6jA1cEx0Zu8Ii3Oo5Yy7T"
   */
  apiKey?: string;
}
