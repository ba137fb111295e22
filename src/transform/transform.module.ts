import { Module } from '@nestjs/common';
import { namespaceProvider } from '../config/config-namespace.js';
import { ShoutcloudModule } from '../shoutcloud/shoutcloud.module.js';
import { TransformController } from './transform.controller.js';
import { transformConfig } from './transform.config.js';
import { TransformService } from './transform.service.js';

@Module({
  imports: [ShoutcloudModule],
  controllers: [TransformController],
  providers: [TransformService, namespaceProvider(transformConfig)],
})
export class TransformModule {}
