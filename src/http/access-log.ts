import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';

/**
 * One access-log line per request (method, route, status, time) instead of Fastify's two
 * (incoming + completed). Every line carries the request id (`reqId`) through the child logger.
 */
export class AccessLogController extends LogController {
  override incomingRequest(): void {
    // the completion line says everything the incoming line did
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const line = {
      method: request.method,
      url: request.url,
      route: request.routeOptions.url,
      status: reply.statusCode,
      ms: Math.round(reply.elapsedTime * 10) / 10,
    };
    if (error) reply.log.error({ ...line, err: error }, 'request errored');
    else reply.log.info(line, 'request');
  }
}
