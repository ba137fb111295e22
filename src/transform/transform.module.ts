import { Module } from '@nestjs/common';
import { ShoutcloudModule } from '../shoutcloud/shoutcloud.module.js';
import { TransformController } from './transform.controller.js';
import { TransformService } from './transform.service.js';

@Module({
  imports: [ShoutcloudModule],
  controllers: [TransformController],
  providers: [TransformService],
})
export class TransformModule {}
