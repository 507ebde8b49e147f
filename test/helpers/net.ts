import net from 'node:net';

/** Connect, send `bytes`, and collect everything the server sends until it closes (or timeout). */
export function exchange(
  port: number,
  bytes: Buffer | Buffer[],
  timeoutMs = 3000,
): Promise<{ received: Buffer; closedByServer: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const sock = net.connect({ host: '127.0.0.1', port }, () => {
      for (const b of Array.isArray(bytes) ? bytes : [bytes]) sock.write(b);
    });
    const timer = setTimeout(() => {
      sock.destroy();
      resolve({ received: Buffer.concat(chunks), closedByServer: false });
    }, timeoutMs);
    sock.on('data', (c) => chunks.push(c));
    sock.on('error', (err) => {
      if ((err as NodeJS.ErrnoException).code !== 'ECONNRESET') reject(err);
    });
    sock.on('close', () => {
      clearTimeout(timer);
      resolve({ received: Buffer.concat(chunks), closedByServer: true });
    });
  });
}
