import { describe, expect, it } from 'vitest';

/*
 * The package's entry point (package.json "exports", built by `npm test`/`npm install`): what a
 * program that depends on spiced imports. It must serve a viewer on its own.
 */
describe("import 'spiced'", () => {
  it('serves the demo desktop to the client it exports', async () => {
    const spiced = await import('spiced');
    const server = new spiced.SpiceServer({
      source: new spiced.DemoSource({ still: true, width: 320, height: 240, sound: false }),
      port: 0,
      listen: '127.0.0.1',
    });
    await server.start();
    const client = new spiced.SpiceClient({ port: server.port });
    try {
      await client.connect();
      await client.waitFor(() => client.display.marks > 0, 10_000, 'the first frame');
      expect([client.display.primary?.width, client.display.primary?.height]).toEqual([320, 240]);
    } finally {
      client.close();
      await server.stop();
    }
  });
});
