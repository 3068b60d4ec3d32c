import { ApiProperty } from '@nestjs/swagger';
import { ERROR_CODES } from './broker-error';

/** The body of every error answer, written by `BrokerExceptionFilter`. */
export class ErrorBody {
  /** The HTTP status, repeated. */
  @ApiProperty({ type: 'integer', example: 404 })
  statusCode: number;

  /** A stable code to branch on; the status alone does not tell e.g. `conflict` from `needs_reauthorization`. */
  @ApiProperty({ enum: ERROR_CODES, example: 'not_found' })
  error: string;

  /** What went wrong, in words a person can act on. Never a secret or token; a 500 holds only an error id. */
  @ApiProperty({ example: 'connection "bloomerang-acme" does not exist' })
  message: string;
}
