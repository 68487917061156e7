import Fastify from 'fastify';

/** The baseline for the HTTP benchmark: a bare Fastify route with default settings. */
const app = Fastify();
app.get('/bare', async () => ({ data: { id: '00000000-0000-4000-8000-000000000000', name: 'Verizon Wireless', country: 'US' } }));
const address = await app.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' });
process.stdout.write(`LISTENING ${address}\n`);
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
