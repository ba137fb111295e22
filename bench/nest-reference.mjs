// The framework's ceiling: a bare NestJS-on-Fastify app of the service's own Nest version, one
// controller, Fastify's default JSON body parser, the same work as the raw reference
// (bench/lib/reference-core.mjs: a Map cache, http.request on misses). No validation pipe, no
// hooks, no logging, no metrics, no security headers: what the service adds to Nest is what
// the service/Nest ratio measures. Plain JavaScript, so Nest's decorators are applied as calls.
//
//   PORT=4001 SHOUTCLOUD_URL=http://127.0.0.1:8080 node bench/nest-reference.mjs
import 'reflect-metadata';
import { Body, Controller, Get, HttpCode, Module, Post, Res } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { agent, answer } from './lib/reference-core.mjs';

const PORT = Number(process.env.PORT ?? 4001);
const HOST = process.env.HOST ?? '127.0.0.1';

class TransformController {
  transform(body, reply) {
    const result = answer(body);
    const send = ({ status, payload, xCache }) => {
      reply.status(status);
      if (xCache) reply.header('x-cache', xCache);
      return payload;
    };
    return result instanceof Promise ? result.then(send) : send(result);
  }

  health() {
    return { status: 'ok' };
  }
}

const method = (name, ...decorators) => {
  const descriptor = Object.getOwnPropertyDescriptor(TransformController.prototype, name);
  for (const decorate of decorators) decorate(TransformController.prototype, name, descriptor);
};
method('transform', Post('transform'), HttpCode(200));
Body()(TransformController.prototype, 'transform', 0);
Res({ passthrough: true })(TransformController.prototype, 'transform', 1);
method('health', Get('health'));
Controller()(TransformController);

class AppModule {}
Module({ controllers: [TransformController] })(AppModule);

const app = await NestFactory.create(AppModule, new FastifyAdapter(), { logger: false });
await app.listen({ port: PORT, host: HOST });
process.stdout.write(`bare Nest reference listening on http://${HOST}:${PORT}\n`);

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.once(signal, async () => {
    agent.destroy();
    await app.close();
    process.exit(0);
  });
}
