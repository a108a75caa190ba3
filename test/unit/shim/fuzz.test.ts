// Fuzz the shim's parsers (frames, START records, the binary plan) in a
// harness built with AddressSanitizer + UBSan (test/fixtures/shim-fuzz.c):
// tens of thousands of random and mutated inputs per run; a crash, an
// overread, a leak (of memory or of an fd) or a hang fails the test. Then the
// real shim binary gets random frames from several connections and must
// still answer, holding no more fds than before. The seed is printed; set
// POD_LAUNCH_FUZZ_SEED to replay a run.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { encodePlan, RecordWriter, type PlanToEncode } from '../../../src/spawn/index.js'
import { frame, REQ, TAG } from '../../../src/shim/proto.js'
import { launchShim } from '../../../src/shim/launch.js'
import { ShimClient } from '../../../src/shim/client.js'

const ROOT = fileURLToPath(new URL('../../..', import.meta.url))
const SEED = Number(process.env.POD_LAUNCH_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31))
const INPUTS = 30_000

/** mulberry32: a small seeded PRNG, so a failing run can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let x = a
    x = Math.imul(x ^ (x >>> 15), x | 1)
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61)
    return ((x ^ (x >>> 14)) >>> 0) / 2 ** 32
  }
}

const rand = prng(SEED)
const int = (n: number) => Math.floor(rand() * n)

const plans: PlanToEncode[] = [
  { argv: ['/bin/true'], envp: [], stdio: [0, 1, 2] },
  {
    file: 'sh',
    argv: ['sh', '-c', 'echo hi'],
    envp: ['PATH=/usr/bin:/bin', 'HOME=/root'],
    searchPath: '/usr/bin:/bin',
    cwd: '/work',
    join: [
      { type: 'ipc', fd: -1, ref: '/proc/<pause>/ns/ipc' },
      { type: 'uts', fd: -1, ref: '/proc/<pause>/ns/uts' },
      { type: 'net', fd: 5 },
    ],
    pidns: { ref: '/proc/<pause>/ns/pid' },
    unshare: ['mnt', 'pid'],
    hostname: 'pod',
    loopback: true,
    newSession: true,
    dieWithParent: true,
    mounts: [
      { kind: 'mount', source: 'proc', target: '/proc', fstype: 'proc', flags: 14 },
      { kind: 'mkdir', target: '/dev/pts', mode: 0o755 },
      { kind: 'symlink', source: '/proc/self/fd', target: '/dev/fd' },
      { kind: 'write', source: '1', target: '/proc/sys/net/ipv4/ip_forward', optional: true },
      { kind: 'pivot', target: '/root' },
    ],
    nofileSoft: 1024,
    identity: { uid: 1000, gid: 1000, groups: [1, 2, 3], capBounding: '18446744073709551615', capEffective: '0' },
    noNewPrivs: true,
    seccomp: Buffer.alloc(64, 7),
    stdio: [3, 4, 5],
    tty: { socket: 9, rows: 24, cols: 80 },
    cgroupFd: 11,
  },
]

function startPayload(plan: Buffer): Buffer {
  return new RecordWriter()
    .str(TAG.NAME, 'app')
    .u32(TAG.RUN, 2)
    .u8(TAG.ROLE, 1)
    .str(TAG.CGROUP_PROCS, '/sys/fs/cgroup/pod-launch/pod-x/app/cgroup.procs')
    .str(TAG.CGROUP2_DIR, '/sys/fs/cgroup/pod-launch/pod-x/app')
    .str(TAG.OOM_FILE, '/sys/fs/cgroup/pod-launch/pod-x/app/memory.events')
    .u8(TAG.MEMORY_LIMITED, 1)
    .u8(TAG.IO, 1)
    .str(TAG.LOG_PATH, '/run/pod-launch/x/logs/app/2.log')
    .u8(TAG.STDIN, 1)
    .u8(TAG.STDIN_ONCE, 0)
    .u8(TAG.TTY, 0)
    .u16(TAG.ROWS, 24)
    .u16(TAG.COLS, 80)
    .bytes(TAG.PLAN, plan)
    .done()
}

const seeds: Buffer[] = plans.flatMap(p => {
  const plan = encodePlan(p)
  const start = startPayload(plan)
  return [plan, start, frame(REQ.START, start), Buffer.concat([frame(REQ.HELLO), frame(REQ.STATUS), frame(REQ.START, start)])]
})

/** One mutation of `b`: flips, random bytes, cut, grow, a length field set to something else, splices. */
function mutate(b: Buffer): Buffer {
  const out = Buffer.from(b)
  const kind = int(7)
  if (kind === 0 && out.length) for (let i = 0; i < 1 + int(8); i++) out[int(out.length)] ^= 1 << int(8)
  if (kind === 1 && out.length) for (let i = 0; i < 1 + int(8); i++) out[int(out.length)] = int(256)
  if (kind === 2) return out.subarray(0, int(out.length + 1))
  if (kind === 3) return Buffer.concat([out, Buffer.from(Array.from({ length: int(64) }, () => int(256)))])
  if (kind === 4 && out.length > 5) {
    // A record or frame length: 0, huge, off by one or random.
    const at = int(out.length - 4)
    const v = [0, 1, 0xffffffff, 0x7fffffff, out.readUInt32BE(at) + 1, out.readUInt32BE(at) - 1, int(2 ** 32)][int(7)]
    out.writeUInt32BE(v >>> 0, at)
  }
  if (kind === 5) {
    const other = seeds[int(seeds.length)]
    const cut = int(out.length + 1)
    return Buffer.concat([out.subarray(0, cut), other.subarray(int(other.length + 1))])
  }
  if (kind === 6 && out.length) {
    const at = int(out.length)
    return Buffer.concat([out.subarray(0, at), out.subarray(at - int(at + 1), at), out.subarray(at)])
  }
  return out
}

function corpus(n: number): Buffer {
  const parts: Buffer[] = []
  for (let i = 0; i < n; i++) {
    let input: Buffer
    if (i < seeds.length) input = seeds[i]
    else if (i % 10 === 0) input = Buffer.from(Array.from({ length: int(512) }, () => int(256)))
    else {
      input = seeds[int(seeds.length)]
      for (let m = 1 + int(4); m > 0; m--) input = mutate(input)
    }
    const head = Buffer.alloc(4)
    head.writeUInt32BE(input.length)
    parts.push(head, input)
  }
  return Buffer.concat(parts)
}

function buildHarness(dir: string): string {
  const out = join(dir, 'shim-fuzz')
  const native = join(ROOT, 'native')
  const cc = spawnSync(
    'gcc',
    [
      '-std=gnu11',
      '-g',
      '-O1',
      '-Wall',
      '-Wextra',
      '-Werror',
      '-fsanitize=address,undefined',
      '-fno-sanitize-recover=all',
      '-fno-omit-frame-pointer',
      `-I${native}`,
      '-o',
      out,
      join(ROOT, 'test/fixtures/shim-fuzz.c'),
      join(native, 'shim/proto.c'),
      join(native, 'shim/request.c'),
      join(native, 'plan-codec.c'),
      join(native, 'ns.c'),
    ],
    { encoding: 'utf8' },
  )
  if (cc.status !== 0) throw new Error(`gcc failed: ${cc.stderr}`)
  return out
}

const harnessDir = mkdtempSync(join(tmpdir(), 'pl-fuzz-'))
t.teardown(() => rmSync(harnessDir, { recursive: true, force: true }))
const harness = buildHarness(harnessDir)
const run = (input: Buffer, ...args: string[]) => spawnSync(harness, args, { input, timeout: 120_000, encoding: 'utf8', maxBuffer: 1 << 24 })

t.test(`the parsers take ${INPUTS} random and mutated inputs without a crash, overread, leak or hang (seed ${SEED})`, async t => {
  const r = run(corpus(INPUTS))
  t.equal(r.signal, null, `not killed (a hang is the timeout's SIGTERM); seed ${SEED}`)
  t.equal(r.status, 0, `clean exit; seed ${SEED}\n${r.stderr.slice(0, 4000)}`)
  t.equal(r.stdout.trim(), `${INPUTS} inputs`)
})

t.test('the harness would see an overread and a leaked fd (the checks can fail)', async t => {
  const overread = run(corpus(3), '--selftest-overread')
  t.not(overread.status, 0)
  t.match(overread.stderr, /heap-buffer-overflow/)
  const fd = run(corpus(3), '--selftest-fd')
  t.equal(fd.status, 3)
  t.match(fd.stderr, /fds open at the end/)
})

t.test('the running shim takes random frames from several connections, still answers, and holds no more fds', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'pl-fuzz-shim-'))
  const pid = await launchShim(dir)
  const fds = () => readdirSync(`/proc/${pid}/fd`).length
  const client = await ShimClient.connect(dir)
  t.teardown(async () => {
    await client.shutdown().catch(() => {})
    rmSync(dir, { recursive: true, force: true })
  })
  const before = fds()
  for (let round = 0; round < 40; round++) {
    const sock = connect(join(dir, 'shim.sock'))
    await new Promise(resolve => sock.once('connect', resolve))
    sock.on('error', () => {})
    sock.resume() // replies are read and dropped
    const chunks: Buffer[] = []
    for (let i = 0; i < 20; i++) {
      const type = [REQ.HELLO, REQ.KILL, REQ.STATUS, REQ.WATCH, REQ.REOPEN, REQ.REMOVE, 0, 99, 0x81, REQ.START][int(10)]
      const payload = int(3) === 0 ? mutate(startPayload(Buffer.from('garbage'))) : Buffer.from(Array.from({ length: int(200) }, () => int(256)))
      chunks.push(int(4) === 0 ? mutate(frame(type, payload)) : frame(type, payload))
    }
    sock.end(Buffer.concat(chunks))
    await new Promise(resolve => sock.once('close', resolve))
  }
  const status = await client.status()
  t.same(status, [], 'it answers, and started nothing')
  let after = fds()
  for (let i = 0; i < 50 && after !== before; i++) {
    await new Promise(r => setTimeout(r, 20))
    after = fds()
  }
  t.equal(after, before, 'every connection it took was closed again')
})
