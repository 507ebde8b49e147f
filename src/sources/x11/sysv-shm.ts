/*
 * SysV shared memory for MIT-SHM. Node has no shmget/shmat, so we call libc through koffi, an
 * optional dependency: it is imported dynamically and its absence (or a platform where libc
 * cannot be loaded) makes createSharedSegment() fail, and capture falls back to core GetImage.
 *
 * koffi.view() maps the attached segment as an external ArrayBuffer without copying. The buffer
 * must not be touched after detach() (that would read unmapped memory), so the segment is owned
 * by one capture object that copies pixels out before releasing it.
 */

export interface SharedSegment {
  readonly shmid: number;
  readonly size: number;
  /** The attached memory. Invalid after detach(). */
  readonly bytes: Buffer;
  /** IPC_RMID: the segment disappears once every process detached (call after the X server attached). */
  markForRemoval(): void;
  detach(): void;
}

interface Libc {
  shmget(key: number, size: number, flags: number): number;
  shmat(id: number, addr: null, flags: number): bigint;
  shmdt(addr: bigint): number;
  shmctl(id: number, cmd: number, buf: null): number;
  errno(): number;
  view(addr: bigint, len: number): ArrayBuffer;
}

const IPC_PRIVATE = 0;
const IPC_CREAT = 0o1000;
const IPC_RMID = 0;
const SHMAT_FAILED = 0xffffffffffffffffn;

let libcPromise: Promise<Libc> | null = null;

function loadLibc(): Promise<Libc> {
  libcPromise ??= bindLibc();
  return libcPromise;
}

type Koffi = (typeof import('koffi'))['default'];

async function bindLibc(): Promise<Libc> {
  let koffi: Koffi;
  try {
    koffi = (await import('koffi')).default;
  } catch (err) {
    throw new Error(`koffi is not available (${(err as Error).message})`);
  }
  const lib = loadFirst(koffi, ['libc.so.6', 'libc.so', 'libc.dylib']);
  const shmget = lib.func('int shmget(int key, size_t size, int shmflg)');
  const shmat = lib.func('void *shmat(int shmid, void *shmaddr, int shmflg)');
  const shmdt = lib.func('int shmdt(void *shmaddr)');
  const shmctl = lib.func('int shmctl(int shmid, int cmd, void *buf)');
  return {
    shmget: (key, size, flags) => asNumber(shmget(key, size, flags)),
    shmat: (id, addr, flags) => asPointer(shmat(id, addr, flags)),
    shmdt: (addr) => asNumber(shmdt(addr)),
    shmctl: (id, cmd, buf) => asNumber(shmctl(id, cmd, buf)),
    errno: () => koffi.errno(),
    view: (addr, len) => koffi.view(addr, len),
  };
}

function loadFirst(koffi: Koffi, names: string[]): ReturnType<Koffi['load']> {
  const failures: string[] = [];
  for (const name of names) {
    try {
      return koffi.load(name);
    } catch (err) {
      failures.push(`${name}: ${(err as Error).message}`);
    }
  }
  throw new Error(`cannot load libc for SysV shared memory (${failures.join('; ')})`);
}

function asNumber(v: unknown): number {
  if (typeof v !== 'number') throw new Error(`unexpected libc result ${String(v)}`);
  return v;
}

function asPointer(v: unknown): bigint {
  if (typeof v === 'bigint') return BigInt.asUintN(64, v);
  if (v === null) return 0n;
  throw new Error(`unexpected pointer value ${String(v)}`);
}

/** Create and attach a private segment of `size` bytes (mode 0600). */
export async function createSharedSegment(size: number): Promise<SharedSegment> {
  const libc = await loadLibc();
  const shmid = libc.shmget(IPC_PRIVATE, size, IPC_CREAT | 0o600);
  if (shmid < 0) throw new Error(`shmget(${size}) failed, errno ${libc.errno()}`);
  const addr = libc.shmat(shmid, null, 0);
  if (addr === SHMAT_FAILED || addr === 0n) {
    const errno = libc.errno();
    libc.shmctl(shmid, IPC_RMID, null);
    throw new Error(`shmat failed, errno ${errno}`);
  }
  const bytes = Buffer.from(libc.view(addr, size));
  let removed = false;
  let attached = true;
  const markForRemoval = (): void => {
    if (removed) return;
    removed = true;
    libc.shmctl(shmid, IPC_RMID, null);
  };
  const detach = (): void => {
    if (!attached) return;
    attached = false;
    libc.shmdt(addr);
    markForRemoval();
  };
  return { shmid, size, bytes, markForRemoval, detach };
}
