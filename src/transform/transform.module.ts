import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { ShoutcloudModule } from '../shoutcloud/shoutcloud.module.js';
import { transformConfig } from './transform.config.js';
import { TransformController } from './transform.controller.js';
import { TransformService } from './transform.service.js';

@Module({
  imports: [ConfigModule.forFeature(transformConfig), ShoutcloudModule],
  controllers: [TransformController],
  providers: [TransformService],
})
export class TransformModule {}
