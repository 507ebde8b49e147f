import { Command } from 'commander';
import { defaultHosts, makeCertificates, tlsPaths, writeCertificates } from '../server/certs.js';
import { parsePositive } from './options.js';
import { existsSync } from 'node:fs';

interface CertOptions {
  dir: string;
  host?: string[];
  days: number;
  force?: boolean;
}

export function certCommand(): Command {
  return new Command('cert')
    .description(
      'make a CA and a server certificate (ECDSA P-256) for the TLS port: ca-cert.pem, server-cert.pem, server-key.pem',
    )
    .requiredOption('-d, --dir <dir>', 'directory to write the three files to (created if missing)')
    .option(
      '--host <name-or-ip...>',
      'names and addresses viewers connect to (subjectAltName); default: localhost, 127.0.0.1, ::1 and this host name',
    )
    .option('--days <n>', 'validity of the server certificate in days', (v) => parsePositive(v), 825)
    .option('-f, --force', 'overwrite existing files')
    .addHelpText(
      'after',
      `
Then:
  spiced serve --tls-port 5901 --tls-dir DIR
  remote-viewer --spice-ca-file=DIR/ca-cert.pem 'spice://HOST?tls-port=5901'`,
    )
    .action(async (opts: CertOptions) => {
      const paths = tlsPaths(opts.dir);
      if (!opts.force && Object.values(paths).some((p) => existsSync(p))) {
        throw new Error(`${opts.dir} already holds certificates; use --force to replace them`);
      }
      const hosts = opts.host && opts.host.length > 0 ? opts.host : defaultHosts();
      await writeCertificates(opts.dir, await makeCertificates(hosts, opts.days));
      process.stdout.write(`wrote ${paths.ca}, ${paths.cert}, ${paths.key} for ${hosts.join(', ')}\n`);
    });
}
