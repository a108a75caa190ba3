// /etc/hosts, /etc/hostname, /etc/resolv.conf written once per pod (as kubelet
// does) and bound into every container. hostNetwork pods see the host's files.
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import type { PodSpec } from '../spec/index.js'

export interface EtcFiles {
  hosts: string
  hostname: string
  resolvConf: string
}

export function writeEtcFiles(spec: PodSpec, podRoot: string, podIP = ''): EtcFiles {
  const dir = join(podRoot, 'etc')
  mkdirSync(dir, { recursive: true, mode: 0o755 })
  const files = { hosts: join(dir, 'hosts'), hostname: join(dir, 'hostname'), resolvConf: join(dir, 'resolv.conf') }
  if (spec.hostNetwork) {
    copyFileSync('/etc/hosts', files.hosts)
    writeFileSync(files.hostname, `${hostname()}\n`)
  } else {
    const lines = [
      '# Kubernetes-managed hosts file (pod-launch).',
      '127.0.0.1\tlocalhost',
      '::1\tlocalhost ip6-localhost ip6-loopback',
      'fe00::0\tip6-localnet',
      'fe00::0\tip6-mcastprefix',
      'fe00::1\tip6-allnodes',
      'fe00::2\tip6-allrouters',
      ...(podIP ? [`${podIP}\t${spec.hostname}`] : []),
    ]
    writeFileSync(files.hosts, lines.join('\n') + '\n', { mode: 0o644 })
    writeFileSync(files.hostname, `${spec.hostname}\n`, { mode: 0o644 })
  }
  // dnsPolicy Default: the node's resolver configuration.
  if (existsSync('/etc/resolv.conf')) copyFileSync('/etc/resolv.conf', files.resolvConf)
  else writeFileSync(files.resolvConf, '')
  return files
}
