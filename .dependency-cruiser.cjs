// The folder map of docs/architecture.md as a gate (npm run lint): each folder of src/ may import
// only the folders below it; the sans-IO protocol imports no I/O module.
// What the server ties together: everything but the browser's viewer (src/client for the rehearsal's
// loopback viewer, server/rehearsal.ts).
const SERVER_BELOW = [
  'agent',
  'audio',
  'channel-core',
  'channels',
  'client',
  'display',
  'protocol',
  'seam',
  'sources',
  'transport',
  'util',
  'video',
];

const layers = {
  protocol: [],
  util: [],
  audio: ['util'],
  seam: ['protocol'],
  transport: ['protocol', 'util'],
  display: ['protocol', 'seam', 'util'],
  agent: ['protocol', 'seam', 'util'],
  'channel-core': ['protocol', 'seam', 'transport', 'util'],
  video: ['audio', 'channel-core', 'display', 'protocol', 'seam', 'util'],
  sources: ['audio', 'display', 'protocol', 'seam', 'util'],
  client: ['audio', 'display', 'protocol', 'transport', 'util'],
  channels: ['agent', 'audio', 'channel-core', 'display', 'protocol', 'seam', 'transport', 'util', 'video'],
  web: ['audio', 'client', 'display', 'protocol', 'seam', 'util'],
  server: SERVER_BELOW,
  // The command line may use all the server may, and the server.
  cli: [...SERVER_BELOW, 'server'],
};

// The map must be a layer order: a folder may name only folders declared before it (so no two
// folders can import each other and none imports one below it), in the order docs/architecture.md
// lists them under Layout. Both are checked here so the gate cannot drift from the map.
const order = Object.keys(layers);
for (const [folder, below] of Object.entries(layers)) {
  const upward = below.filter((b) => !order.slice(0, order.indexOf(folder)).includes(b));
  if (upward.length) throw new Error(`.dependency-cruiser.cjs: src/${folder}/ may not import ${upward} (not below it)`);
}
const architecture = require('node:fs').readFileSync(
  require('node:path').join(__dirname, 'docs/architecture.md'),
  'utf8',
);
const layout = architecture.slice(architecture.indexOf('## Layout'));
const documented = [...layout.matchAll(/^src\/([a-z0-9-]+)\//gm)].map((m) => m[1]);
if (documented.join(' ') !== order.join(' ')) {
  throw new Error(
    `.dependency-cruiser.cjs: the layers (${order}) differ from docs/architecture.md, Layout (${documented})`,
  );
}

const folderRules = Object.entries(layers).map(([folder, below]) => ({
  name: `layers-${folder}`,
  comment: `src/${folder}/ may import only ${below.length ? below.join(', ') : 'itself'} (docs/architecture.md, Layout)`,
  severity: 'error',
  from: { path: `^src/${folder}/` },
  to: { path: '^src/', pathNot: `^src/(${[folder, ...below].join('|')})/` },
}));

module.exports = {
  forbidden: [
    ...folderRules,
    {
      name: 'unlisted-folder',
      comment: 'a new folder of src/ gets its place in the layers above',
      severity: 'error',
      from: { path: '^src/[^/]+/', pathNot: `^src/(${Object.keys(layers).join('|')})/` },
      to: { path: '^src/' },
    },
    {
      name: 'protocol-sans-io',
      comment: 'src/protocol/ turns bytes into values and back; it never touches a socket, a file or a process',
      severity: 'error',
      from: { path: '^src/protocol/' },
      to: {
        dependencyTypes: ['core'],
        path: '^(node:)?(net|tls|dgram|http|https|fs|fs/promises|child_process|worker_threads)$',
      },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
