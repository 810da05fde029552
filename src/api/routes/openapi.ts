// GET /api/v1/openapi.json: the document generated from the routes' own schemas.
import type { FastifyPluginAsync } from 'fastify';
import type { PluginOptions } from '../context';
import { COMMON_ERRORS, errorResponses, errorBodySchema } from '../errors';
import { buildOpenApi, type OpenApiDocument } from '../openapi';
import { SHARED_SCHEMAS } from '../schemas';
import { healthSchema } from './health';

export const openapiRoutes: FastifyPluginAsync<PluginOptions> = async (app, { ctx }) => {
  let doc: OpenApiDocument | null = null;
  app.get('/openapi.json', {
    config: { tag: 'openapi' },
    schema: {
      summary: 'This OpenAPI 3.1 document',
      response: {
        200: { type: 'object', additionalProperties: true, description: 'OpenAPI 3.1 document' },
        ...errorResponses(...COMMON_ERRORS),
      },
    },
  }, async () => {
    // Built on first request: by then every plugin has registered its routes.
    doc ??= buildOpenApi(ctx.routes, [errorBodySchema, healthSchema, ...SHARED_SCHEMAS], ctx.version);
    return doc;
  });
};
