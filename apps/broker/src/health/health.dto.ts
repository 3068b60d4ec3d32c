import { ApiProperty } from '@nestjs/swagger';

export class LivenessView {
  @ApiProperty({ enum: ['ok'], example: 'ok' })
  status: string;
}

export class ReadinessView {
  @ApiProperty({
    enum: ['ok', 'degraded', 'error'],
    description: '`degraded`: serving token reads without the dependencies named in `degraded`',
  })
  status: 'ok' | 'degraded' | 'error';

  @ApiProperty({ type: [String], enum: ['postgres', 'redis'], example: [] })
  degraded: ('postgres' | 'redis')[];

  @ApiProperty({ description: 'The dependencies that answer', example: { postgres: { status: 'up' } } })
  info: Record<string, { status: string }>;

  @ApiProperty({ description: 'The dependencies that do not answer', example: {} })
  error: Record<string, { status: string; message?: string }>;

  @ApiProperty({ description: 'Every dependency checked' })
  details: Record<string, { status: string; message?: string }>;
}
