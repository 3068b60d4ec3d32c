import { ApiProperty } from '@nestjs/swagger';
import { IsIn, IsInt, IsString, Matches, Max, MaxLength, Min, MinLength } from 'class-validator';
import { ADMIN_ROLES, type AdminRole } from './admin-roles';

export class CreateAdminTokenDto {
  /**
   * What the token is for; the audit names its actions `token:<name>`. Unique.
   * @example "terraform-ci"
   */
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  @Matches(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, {
    message: 'name must be letters, digits, ".", "_" or "-", starting with a letter or digit',
  })
  name: string;

  /** At most the role of whoever mints it. */
  @ApiProperty({ enum: ADMIN_ROLES, example: 'operator' })
  @IsIn(ADMIN_ROLES)
  role: AdminRole;

  /**
   * Days until it stops working by itself (1 to 366).
   * @example 90
   */
  @IsInt()
  @Min(1)
  @Max(366)
  expiresInDays: number;
}

export class AdminTokenView {
  @ApiProperty({ format: 'uuid', example: '9b2d7c1e-0f3a-4c58-8e6d-2a4b5c6d7e8f' })
  id: string;
  /** @example "terraform-ci" */
  name: string;
  @ApiProperty({ enum: ADMIN_ROLES, example: 'operator' })
  role: AdminRole;
  /**
   * The public start of the token, to tell tokens apart.
   * @example "tba_Q2xW9e4Rt7Yu"
   */
  tokenPrefix: string;
  /**
   * Who minted it.
   * @example "oidc:248289761001"
   */
  createdBy: string;
  /** @example "2026-08-02T09:30:00.000Z" */
  expiresAt: Date;
  /** @example "2026-05-04T09:30:00.000Z" */
  createdAt: Date;
}

export class CreatedAdminTokenView extends AdminTokenView {
  /**
   * The token, shown this once: send it as `Authorization: Bearer <token>`.
   * @example "tba_Q2xW9e4Rt7Yu_5mZ0yq3nWc1bGf8Jk2Lp4Rs6Tv9Xa1Cd3Ef5Gh7Jk9M"
   */
  token: string;
}
