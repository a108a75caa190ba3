// A real registry for tests: Debian's docker-registry (CNCF distribution
// 2.8) on 127.0.0.1 on a free port, with its storage in a temp dir; plain
// HTTP, TLS with a CA made here by openssl, htpasswd Basic auth, or token
// auth with the fixture issuer (test/fixtures/token-issuer.mjs). Filled
// with skopeo copy. stop() kills what start made.
import { execFileSync, type ChildProcess } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { spawnDaemon } from './daemon.js'

export const USER = 'tester'
export const PASSWORD = 'pw-not-secret-42'
/** The refresh token (an identity token) the fixture issuer takes for USER. */
export const REFRESH_TOKEN = 'rt-not-secret-7'
const ISSUER = fileURLToPath(new URL('../fixtures/token-issuer.mjs', import.meta.url))

export interface Registry {
  host: string
  port: number
  /** PEM of the CA that signed the registry's certificate (tls). */
  caFile?: string
  dir: string
  /** The processes it runs (docker-registry, and the token issuer with token auth). */
  pids: number[]
  /** skopeo copy SRC docker://HOST/DEST (with the credentials and CA it needs). */
  push(src: string, dest: string, extra?: string[]): void
  stop(): Promise<void>
}

export interface RegistryOptions {
  tls?: boolean
  auth?: 'htpasswd' | 'token'
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.on('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })
}

/** Resolves once something accepts connections on the port (or the process exits). */
async function waitListening(port: number, child: ChildProcess, log: () => string): Promise<void> {
  for (;;) {
    if (child.exitCode !== null) throw new Error(`registry exited ${child.exitCode}: ${log()}`)
    const ok = await new Promise<boolean>(r => {
      const c = connect(port, '127.0.0.1', () => (c.destroy(), r(true)))
      c.on('error', () => r(false))
    })
    if (ok) return
    await new Promise(r => setTimeout(r, 50))
  }
}

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { stdio: 'ignore' })
}

/** A CA and a certificate for 127.0.0.1 signed by it. */
export function makeCerts(dir: string): { ca: string; cert: string; key: string } {
  const ca = join(dir, 'ca.crt')
  const caKey = join(dir, 'ca.key')
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=pod-launch test CA', '-keyout', caKey, '-out', ca)
  const key = join(dir, 'server.key')
  const csr = join(dir, 'server.csr')
  const cert = join(dir, 'server.crt')
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', key, '-out', csr)
  writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n')
  openssl('x509', '-req', '-in', csr, '-CA', ca, '-CAkey', caKey, '-CAcreateserial', '-days', '2', '-extfile', join(dir, 'ext.cnf'), '-out', cert)
  return { ca, cert, key }
}

export async function startRegistry(o: RegistryOptions = {}): Promise<Registry> {
  const dir = mkdtempSync(join(tmpdir(), 'pl-registry-'))
  const port = await freePort()
  const procs: ChildProcess[] = []
  let yaml = `version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: ${dir}/data\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:${port}\n`
  let caFile: string | undefined
  if (o.tls) {
    mkdirSync(join(dir, 'tls'))
    mkdirSync(join(dir, 'certs'))
    const c = makeCerts(join(dir, 'tls'))
    caFile = join(dir, 'certs', 'ca.crt')
    copyFileSync(c.ca, caFile)
    yaml += `  tls:\n    certificate: ${c.cert}\n    key: ${c.key}\n`
  }
  if (o.auth === 'htpasswd') {
    execFileSync('htpasswd', ['-Bbc', join(dir, 'htpasswd'), USER, PASSWORD], { stdio: 'ignore' })
    yaml += `auth:\n  htpasswd:\n    realm: pod-launch-test\n    path: ${join(dir, 'htpasswd')}\n`
  }
  if (o.auth === 'token') {
    const tport = await freePort()
    const key = join(dir, 'token.key')
    const cert = join(dir, 'token.crt')
    openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=pod-launch test token issuer', '-keyout', key, '-out', cert)
    const issuer = spawnDaemon(process.execPath, [ISSUER, String(tport), key, USER, PASSWORD, REFRESH_TOKEN], { stdio: ['ignore', 'ignore', 'inherit'] })
    procs.push(issuer)
    await waitListening(tport, issuer, () => '')
    yaml += `auth:\n  token:\n    realm: http://127.0.0.1:${tport}/token\n    service: pod-launch-test\n    issuer: pod-launch-test-issuer\n    rootcertbundle: ${cert}\n`
  }
  writeFileSync(join(dir, 'config.yml'), yaml)
  let log = ''
  const child = spawnDaemon('/usr/bin/docker-registry', ['serve', join(dir, 'config.yml')], { stdio: ['ignore', 'pipe', 'pipe'] })
  procs.push(child)
  child.stdout.on('data', d => (log += d))
  child.stderr.on('data', d => (log += d))
  await waitListening(port, child, () => log)
  const host = `127.0.0.1:${port}`
  return {
    host,
    port,
    caFile,
    dir,
    pids: procs.map(p => p.pid!),
    push(src, dest, extra = []) {
      const args = ['copy', '--quiet', ...extra]
      if (o.tls) args.push('--dest-cert-dir', join(dir, 'certs'))
      else args.push('--dest-tls-verify=false')
      if (o.auth) args.push('--dest-creds', `${USER}:${PASSWORD}`)
      execFileSync('skopeo', [...args, src, `docker://${host}/${dest}`], {
        stdio: ['ignore', 'ignore', 'pipe'],
        env: { ...process.env, REGISTRY_AUTH_FILE: join(dir, 'skopeo-auth.json') },
      })
    },
    async stop() {
      for (const p of procs) {
        if (p.exitCode === null && p.signalCode === null) {
          const gone = new Promise(r => p.once('exit', r))
          p.kill('SIGKILL')
          await gone
        }
      }
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
