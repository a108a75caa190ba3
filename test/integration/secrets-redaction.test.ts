// A Secret's values never reach a disk outside tmpfs and are never printed:
// not in pod.json, spec.json, a plan, `inspect` or `explain`; containers and
// `exec` still get them (env, argv, volumes), read from the pod's tmpfs.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { lstatSync, readFileSync, readdirSync, statfsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { requires } from '../helpers/requires.js'
import { cli } from '../helpers/cli.js'
import { newRoot, until } from '../helpers/detached-pods.js'
import { uniqueName } from '../helpers/pods.js'

const skip = requires('root', 'built')
const TMPFS_MAGIC = 0x01021994

/** Mount points of tmpfs at or below `dir`. */
const tmpfsBelow = (dir: string) =>
  readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map(l => l.split(' '))
    .filter(f => f[4]?.startsWith(`${dir}/`) && f[f.indexOf('-') + 1] === 'tmpfs')
    .map(f => f[4])

/** Every regular file below `dir` that is not on a tmpfs, whose bytes contain one of `needles`. */
function filesHolding(dir: string, needles: string[], skipDirs: string[]): string[] {
  const found: string[] = []
  const walk = (d: string) => {
    if (skipDirs.includes(d)) return
    for (const name of readdirSync(d)) {
      const p = join(d, name)
      const st = lstatSync(p)
      if (st.isDirectory()) walk(p)
      else if (st.isFile() && needles.some(n => readFileSync(p).includes(n))) found.push(p)
    }
  }
  walk(dir)
  return found
}

const manifest = (name: string, value: string) =>
  [
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: `${name}-db` },
      data: { password: Buffer.from(value).toString('base64') },
      stringData: { user: `u-${value}` },
    },
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name },
      spec: {
        terminationGracePeriodSeconds: 1,
        volumes: [{ name: 'creds', secret: { secretName: `${name}-db` } }],
        containers: [
          {
            name: 'app',
            image: 'host',
            // The value reaches argv through $(PW): the plan shows $(PW), the process gets the value.
            command: ['sh', '-c', 'sleep 600; true', 'sh', '--password=$(PW)'],
            envFrom: [{ secretRef: { name: `${name}-db` }, prefix: 'DB_' }],
            env: [
              { name: 'PW', valueFrom: { secretKeyRef: { name: `${name}-db`, key: 'password' } } },
              { name: 'URL', value: 'pg://app:$(PW)@db' },
            ],
            volumeMounts: [{ name: 'creds', mountPath: '/creds' }],
          },
        ],
      },
    },
  ]
    .map(d => JSON.stringify(d))
    .join('\n---\n')

t.test('a Secret read by env, argv and a volume: the container has it, no disk file of ours and no output of ours does', { skip }, async t => {
  const root = newRoot(t)
  const n = uniqueName('redact')
  const value = `s3cr3t-${randomBytes(6).toString('hex')}`
  const needles = [value, Buffer.from(value).toString('base64'), Buffer.from(`u-${value}`).toString('base64')]
  const f = join(t.testdir(), 'app.yaml')
  writeFileSync(f, manifest(n, value))
  const run = await cli(root, 'run', '-d', f)
  t.equal(run.code, 0, run.stderr)
  const id = run.stdout.trim()
  const dir = join(root, id)

  const seen = await cli(root, 'exec', n, '--', 'sh', '-c', 'echo "$PW|$URL|$DB_password|$DB_user"; cat /creds/password; echo; tr "\\0" " " < /proc/1/cmdline')
  t.equal(seen.code, 0, seen.stderr)
  t.same(
    seen.stdout.trim().split('\n'),
    [`${value}|pg://app:${value}@db|${value}|u-${value}`, value, `sh -c sleep 600; true sh --password=${value}`],
    'exec gets the real env; the volume and the argv have the value',
  )

  const tmpfs = tmpfsBelow(dir).sort()
  t.same(tmpfs, [join(dir, 'secrets'), join(dir, 'volumes', 'creds')], 'the secrets directory and the secret volume are tmpfs')
  t.equal(statfsSync(join(dir, 'secrets')).type, TMPFS_MAGIC)
  t.same(filesHolding(root, needles, tmpfs), [], 'no file of the state root outside tmpfs holds the value, plain or base64')

  for (const args of [
    ['inspect', n],
    ['ps', '--json'],
    ['explain', f],
    ['explain', '--json', f],
  ]) {
    const out = await cli(root, ...args)
    t.equal(out.code, 0, `${args.join(' ')}: ${out.stderr}`)
    t.notOk(
      needles.some(v => out.stdout.includes(v) || out.stderr.includes(v)),
      `${args.join(' ')} prints no value`,
    )
  }
  const inspect = await cli(root, 'inspect', n)
  const app = (JSON.parse(inspect.stdout) as { podLaunch: { containers: Record<string, { plan: { envp: string[]; argv: string[]; sealed: unknown } }> } })
    .podLaunch.containers.app
  t.ok(app.plan.envp.includes(`PW=<set to the key 'password' in secret '${n}-db'>`), 'a stand-in in the stored plan')
  t.ok(app.plan.envp.includes('URL=pg://app:$(PW)@db'))
  t.same(app.plan.argv, ['sh', '-c', 'sleep 600; true', 'sh', '--password=$(PW)'])
  t.same(app.plan.sealed, { file: join(dir, 'secrets', 'app.json'), argv: true })

  const rm = await cli(root, 'rm', '--force', n)
  t.equal(rm.code, 0, rm.stderr)
  t.same(tmpfsBelow(root), [], 'every tmpfs unmounted')
})

t.test('a foreground pod keeps its record redacted too, and its tmpfs goes with it', { skip }, async t => {
  const root = newRoot(t)
  const n = uniqueName('redfg')
  const value = `s3cr3t-${randomBytes(6).toString('hex')}`
  const f = join(t.testdir(), 'app.yaml')
  writeFileSync(
    f,
    manifest(n, value)
      .replace('sleep 600; true', 'sleep 3; test \\"$PW\\" = \\"$(cat /creds/password)\\" && echo same')
      .replace('"terminationGracePeriodSeconds":1', '"restartPolicy":"Never","terminationGracePeriodSeconds":1'),
  )
  const running = cli(root, 'run', f)
  // While it runs: its record (pod.json, what inspect prints) holds stand-ins only.
  let inspected = ''
  await until('the foreground pod is Running', async () => {
    const r = await cli(root, 'inspect', n)
    inspected = r.stdout
    return r.code === 0 && (JSON.parse(r.stdout) as { status: { phase: string } }).status.phase === 'Running'
  })
  t.match(inspected, `PW=<set to the key 'password' in secret '${n}-db'>`)
  t.notOk(inspected.includes(value))
  const run = await running
  t.equal(run.code, 0, run.stderr)
  t.equal(run.stdout, '[app] same\n')
  t.notOk(run.stdout.includes(value) || run.stderr.includes(value))
  t.same(
    readdirSync(root).filter(d => /^[0-9a-f-]{36}$/.test(d)),
    [],
    'the pod directory went with the run',
  )
  t.same(tmpfsBelow(root), [])
})
