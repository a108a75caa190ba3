// seccompProfile on the real kernel: RuntimeDefault refuses what the default
// profile blocks with EPERM while normal programs run, Unconfined allows it,
// Localhost profiles apply (in both load orders), a bad profile fails before
// anything is made. Blocked calls come from a static probe built here with
// gcc, with arguments the kernel rejects before acting (see its header).
import t from 'tap'
import { execFile, execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, rmdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { requires } from '../helpers/requires.js'
import { manifest, run, start, terminated, uniqueName } from '../helpers/pods.js'
import { main } from '../../src/cli/main.js'
import { startPod, PodError } from '../../src/index.js'

const skip = requires('root', 'built')
const dir = mkdtempSync(join(tmpdir(), 'plt-seccomp-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))
const PROBE = join(dir, 'probe')
if (!skip) execFileSync('gcc', ['-static', '-O2', '-o', PROBE, fileURLToPath(new URL('../helpers/syscall-probe.c', import.meta.url))])

const probeVolume = { volumes: [{ name: 'probe', hostPath: { path: dir, type: 'Directory' } }] }
const probeMount = { volumeMounts: [{ name: 'probe', mountPath: '/probe', readOnly: true }] }
const PROBES = ['kexec_load', 'init_module', 'keyctl', 'ptrace', 'unshare-user']
/** A container that prints its Seccomp mode, then each probe's result. */
const prober = (name: string, securityContext: object = {}) => ({
  name,
  command: ['sh', '-c', 'grep Seccomp: /proc/self/status | tr -s "\\t" " "; /probe/probe "$@"', '--', ...PROBES],
  securityContext,
  ...probeMount,
})
const results = (lines: string[]) => Object.fromEntries(lines.filter(l => !l.startsWith('Seccomp')).map(l => l.split(' ') as [string, string]))
const mode = (lines: string[]) => lines.find(l => l.startsWith('Seccomp:'))

t.test('RuntimeDefault refuses kexec_load, module loading, keyctl, ptrace and new user namespaces with EPERM', { skip }, async t => {
  const { lines } = await run(t, manifest(uniqueName('rd'), [prober('rd', { seccompProfile: { type: 'RuntimeDefault' } })], probeVolume))
  t.equal(mode(lines('rd')), 'Seccomp: 2', 'filtered')
  t.same(results(lines('rd')), { kexec_load: 'EPERM', init_module: 'EPERM', keyctl: 'EPERM', ptrace: 'EPERM', 'unshare-user': 'EPERM' })
})

t.test('Unconfined (the default when nothing asks) allows each of them', { skip }, async t => {
  // SYS_BOOT and SYS_MODULE so that the kernel, not a missing capability, answers kexec_load and init_module.
  const { lines } = await run(t, manifest(uniqueName('unconf'), [prober('u', { capabilities: { add: ['SYS_BOOT', 'SYS_MODULE'] } })], probeVolume))
  t.equal(mode(lines('u')), 'Seccomp: 0', 'no filter')
  const r = results(lines('u'))
  for (const p of PROBES) t.not(r[p], 'EPERM', `${p}: ${r[p]}`)
  t.equal(r['unshare-user'], 'ok')
  t.equal(r.keyctl, 'ok')
})

t.test(
  'RuntimeDefault follows the bounding set: kexec_load stays blocked with SYS_BOOT, init_module and ptrace open with their capability',
  { skip },
  async t => {
    const { lines } = await run(
      t,
      manifest(
        uniqueName('rdcaps'),
        [prober('c', { seccompProfile: { type: 'RuntimeDefault' }, capabilities: { add: ['SYS_BOOT', 'SYS_MODULE', 'SYS_PTRACE'] } })],
        probeVolume,
      ),
    )
    const r = results(lines('c'))
    t.equal(r.kexec_load, 'EPERM')
    t.not(r.init_module, 'EPERM', `init_module: ${r.init_module}`)
    t.equal(r.ptrace, 'ESRCH', 'the kernel answers: no such process')
    t.equal(r['unshare-user'], 'EPERM', 'still no new namespaces without SYS_ADMIN')
  },
)

t.test('busybox unshare -U fails under RuntimeDefault and works Unconfined; sh, ls and cat run', { skip }, async t => {
  const cmd = ['sh', '-c', 'ls / >/dev/null && cat /etc/hostname && busybox unshare -U true && echo unshared']
  const { lines, stderr, result } = await run(
    t,
    manifest(uniqueName('unshare'), [
      { name: 'rd', command: cmd, securityContext: { seccompProfile: { type: 'RuntimeDefault' } } } as never,
      { name: 'un', command: cmd, securityContext: { seccompProfile: { type: 'Unconfined' } } } as never,
    ]),
  )
  t.equal(lines('rd').length, 1, 'ls and cat ran')
  t.match(stderr('rd').join('\n'), /Operation not permitted/)
  t.not(terminated(result, 'rd')?.exitCode, 0)
  t.equal(lines('un').at(-1), 'unshared')
  t.equal(terminated(result, 'un')?.exitCode, 0)
})

t.test('the pod-level profile is inherited, a container-level one wins, privileged gets none', { skip }, async t => {
  const cmd = ['sh', '-c', 'grep Seccomp: /proc/self/status | tr -s "\\t" " "']
  const { lines } = await run(
    t,
    manifest(
      uniqueName('levels'),
      [
        { name: 'inherit', command: cmd },
        { name: 'own', command: cmd, securityContext: { seccompProfile: { type: 'Unconfined' } } } as never,
        { name: 'priv', command: cmd, securityContext: { privileged: true } } as never,
      ],
      { securityContext: { seccompProfile: { type: 'RuntimeDefault' } } },
    ),
  )
  t.same([lines('inherit'), lines('own'), lines('priv')], [['Seccomp: 2'], ['Seccomp: 0'], ['Seccomp: 0']])
})

t.test('seccompDefault gives RuntimeDefault to containers that ask for nothing', { skip }, async t => {
  const cmd = ['sh', '-c', 'grep Seccomp: /proc/self/status | tr -s "\\t" " "']
  const m = manifest(uniqueName('sdefault'), [
    { name: 'c', command: cmd },
    { name: 'u', command: cmd, securityContext: { seccompProfile: { type: 'Unconfined' } } } as never,
  ])
  const { lines } = await run(t, m, { seccompDefault: true })
  t.same([lines('c'), lines('u')], [['Seccomp: 2'], ['Seccomp: 0']])
})

t.test('a Localhost profile blocking mkdir applies, loaded with and without no_new_privs', { skip }, async t => {
  const profile = join(dir, 'no-mkdir.json')
  writeFileSync(
    profile,
    JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }] }),
  )
  const cmd = ['sh', '-c', 'touch /tmp/file && echo touched; mkdir /tmp/x && echo made']
  const sc = { seccompProfile: { type: 'Localhost', localhostProfile: profile } }
  const { lines, stderr } = await run(
    t,
    manifest(uniqueName('local'), [
      { name: 'root', command: cmd, securityContext: sc } as never,
      { name: 'nnp', command: cmd, securityContext: { ...sc, allowPrivilegeEscalation: false } } as never,
    ]),
  )
  for (const c of ['root', 'nnp']) {
    t.same(lines(c), ['touched'], `${c}: other calls pass`)
    t.match(stderr(c).join('\n'), /Operation not permitted/, `${c}: mkdir refused`)
  }
})

t.test('a relative localhostProfile is found below /etc/pod-launch/seccomp', { skip }, async t => {
  const base = '/etc/pod-launch/seccomp'
  // The directories this test makes, deepest last; removed at teardown when empty.
  const made = ['/etc/pod-launch', base].filter(d => !existsSync(d))
  mkdirSync(base, { recursive: true })
  const name = `plt-test-${process.pid}.json`
  writeFileSync(
    join(base, name),
    JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }] }),
  )
  t.teardown(() => {
    rmSync(join(base, name), { force: true })
    for (const d of made.reverse()) if (readdirSync(d).length === 0) rmdirSync(d)
  })
  const { stderr } = await run(
    t,
    manifest(uniqueName('relative'), [
      { name: 'c', command: ['mkdir', '/tmp/x'], securityContext: { seccompProfile: { type: 'Localhost', localhostProfile: name } } } as never,
    ]),
  )
  t.match(stderr('c').join('\n'), /Permission denied/, "the profile's errnoRet (EACCES) came back")
})

t.test('a Localhost profile that does not validate fails before anything is made, naming the field', { skip }, async t => {
  const bad = join(dir, 'bad.json')
  writeFileSync(bad, JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOPE' }] }))
  const name = uniqueName('badprofile')
  const root = mkdtempSync(join(tmpdir(), 'plt-seccomp-root-'))
  t.teardown(() => rmSync(root, { recursive: true, force: true }))
  const m = manifest(name, [{ name: 'c', command: ['true'], securityContext: { seccompProfile: { type: 'Localhost', localhostProfile: bad } } } as never])
  const e = (await startPod(m as never, { stateRoot: root, onOutput: () => {}, onManifestWarning: () => {}, onWarning: () => {} }).catch(e => e)) as PodError
  t.ok(e instanceof PodError)
  t.equal(e.step, 'seccomp.profile')
  t.equal(e.exitCode, 2)
  t.match(
    e.message,
    `seccomp.profile: spec.containers[0].securityContext.seccompProfile.localhostProfile: ${bad}: syscalls[0].action: "SCMP_ACT_NOPE" is not an action`,
  )
  t.same(readdirSync(root), [], 'no pod directory was made')
  t.notOk(existsSync(`/sys/fs/cgroup/memory/pod-launch/${name}`), 'no cgroup')

  writeFileSync(bad, '{"defaultAction": "SCMP_ACT_ALLOW", ')
  const e2 = (await startPod(m as never, { stateRoot: root, onOutput: () => {}, onManifestWarning: () => {}, onWarning: () => {} }).catch(e => e)) as PodError
  t.match(e2.message, /localhostProfile: .*bad\.json: \(json\): not valid JSON/)
  const e3 = (await startPod(
    manifest(name, [
      { name: 'c', command: ['true'], securityContext: { seccompProfile: { type: 'Localhost', localhostProfile: join(dir, 'missing.json') } } } as never,
    ]) as never,
    { stateRoot: root, onOutput: () => {}, onManifestWarning: () => {} },
  ).catch(e => e)) as PodError
  t.match(
    e3.message,
    /^seccomp\.profile: spec\.containers\[0\]\.securityContext\.seccompProfile\.localhostProfile: .*missing\.json: no such file or directory \(ENOENT\)$/,
  )
  t.same(readdirSync(root), [])
})

t.test("a process exec'd into a container (a postStart hook) gets its filter", { skip }, async t => {
  const { pod, lines } = await start(
    t,
    manifest(uniqueName('hook'), [
      {
        name: 'c',
        command: ['sh', '-c', 'while [ ! -s /tmp/hook ]; do sleep 0.05; done; cat /tmp/hook'],
        securityContext: { seccompProfile: { type: 'RuntimeDefault' } },
        lifecycle: { postStart: { exec: { command: ['sh', '-c', 'grep Seccomp: /proc/self/status | tr -s "\\t" " " > /tmp/hook'] } } },
      } as never,
    ]),
  )
  const result = await pod.wait()
  t.equal(terminated(result, 'c')?.exitCode, 0)
  t.same(lines('c'), ['Seccomp: 2'])
})

t.test("run -d --seccomp-default: the engine applies it, and exec gets the container's filter", { skip }, async t => {
  const BIN = fileURLToPath(new URL('../../bin/pod-launch', import.meta.url))
  const root = mkdtempSync(join(tmpdir(), 'plt-seccomp-state-'))
  const cli = (...args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>(resolve =>
      execFile(process.execPath, [BIN, '--root', root, ...args], (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      ),
    )
  const name = uniqueName('detached')
  t.teardown(async () => {
    await cli('rm', '--force', name)
    rmSync(root, { recursive: true, force: true })
  })
  const file = join(dir, `${name}.json`)
  writeFileSync(
    file,
    JSON.stringify(
      manifest(name, [
        { name: 'c', command: ['sh', '-c', 'grep Seccomp: /proc/self/status; exec sleep 1000'] },
        { name: 'u', command: ['sleep', '1000'], securityContext: { seccompProfile: { type: 'Unconfined' } } } as never,
      ]),
    ),
  )
  const started = await cli('run', '-d', '--seccomp-default', file)
  t.equal(started.code, 0, started.stderr)
  const show = ['sh', '-c', 'grep Seccomp: /proc/self/status | tr -s "\\t" " "; busybox unshare -U true 2>&1 || true']
  const inC = await cli('exec', name, '-c', 'c', '--', ...show)
  t.equal(inC.stdout, 'Seccomp: 2\nunshare: unshare(0x10000000): Operation not permitted\n')
  const inU = await cli('exec', name, '-c', 'u', '--', ...show)
  t.equal(inU.stdout, 'Seccomp: 0\n')
  t.equal((await cli('rm', '--force', name)).code, 0)
})

t.test("explain names each container's profile; check compiles and loads RuntimeDefault", { skip }, async t => {
  const file = join(dir, 'explain.json')
  writeFileSync(
    file,
    JSON.stringify(
      manifest('explain-seccomp', [
        { name: 'a', command: ['true'] },
        { name: 'b', command: ['true'], securityContext: { seccompProfile: { type: 'RuntimeDefault' } } } as never,
        { name: 'p', command: ['true'], securityContext: { privileged: true } } as never,
      ]),
    ),
  )
  let out = ''
  const io = { out: (s: string) => void (out += s), err: () => {} }
  t.equal(await main(['explain', file], io as never), 0)
  t.match(out, /seccomp: Unconfined \(nothing asked: the Kubernetes default/)
  t.match(
    out,
    /seccomp: RuntimeDefault \(from spec\.containers\[1\]\.securityContext\.seccompProfile\), \d+ BPF instructions loaded before the identity change/,
  )
  t.match(out, /seccomp: Unconfined \(privileged containers run without seccomp\)/)
  out = ''
  await main(['explain', '--seccomp-default', file], io)
  t.match(out, /seccomp: RuntimeDefault \(nothing asked; --seccomp-default gives RuntimeDefault\)/)
  out = ''
  await main(['check'], io)
  t.match(out, /pass {2}seccomp: libseccomp \d+\.\d+\.\d+; RuntimeDefault compiles \(\d+ BPF instructions\) and loads; kernel actions: .*errno/)
})
