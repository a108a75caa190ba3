// lib-first.mjs CHECKOUT N ROOT PARENT: in a fresh Node process, the library (dist/index.js, loaded before the
// clock starts) runs three N-container /bin/true pods one after the other (runPod, --network none as in run.sh);
// prints each pod's wall ms and CPU ms of this process (process.cpuUsage: the main thread and the thread pool; the
// containers are not counted). The first pod runs cold code, as every CLI `run` does.
const [dir, n, root, parent] = process.argv.slice(2)
const { runPod } = await import(`${dir}/dist/index.js`)
const manifest = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'first' },
  spec: { restartPolicy: 'Never', containers: Array.from({ length: Number(n) }, (_, i) => ({ name: `c${i + 1}`, image: 'host', command: ['/bin/true'] })) },
}
const out = []
for (let i = 0; i < 3; i++) {
  const c0 = process.cpuUsage()
  const t0 = performance.now()
  const r = await runPod(manifest, { stateRoot: root, cgroupParent: parent, network: 'none', onOutput: () => {}, onManifestWarning: () => {} })
  const t1 = performance.now()
  const c = process.cpuUsage(c0)
  if (r.phase !== 'Succeeded') throw new Error(`pod ${i}: ${r.phase}`)
  out.push(`${(t1 - t0).toFixed(1)}\t${((c.user + c.system) / 1000).toFixed(1)}`)
}
console.log(out.join('\t'))
