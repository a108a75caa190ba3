import t from 'tap'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { assertNameFree } from '../../../src/manage/admit.js'
import { processIdentity, readRecordMentioning, writeRecord, type PodRecord } from '../../../src/state/index.js'
import type { PodSpec } from '../../../src/spec/index.js'

const spec = { containers: [{ name: 'web' }], initContainers: [] } as unknown as PodSpec
let n = 0
const uid = () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`

function pod(root: string, name: string, live: boolean): PodRecord {
  const id = uid()
  mkdirSync(join(root, id))
  const r: PodRecord = {
    id,
    name,
    namespace: 'default',
    createdAt: new Date().toISOString(),
    supervisor: live ? processIdentity(process.pid) : null,
    phase: live ? 'Running' : 'Succeeded',
    spec,
    podIP: '',
    initContainerStatuses: [],
    containerStatuses: [],
  }
  writeRecord(root, r)
  return r
}

t.test('a name a live pod holds is refused; an ended pod, a container or a longer name with it is no clash', async t => {
  const root = mkdtempSync(join(tmpdir(), 'pl-admit-'))
  t.teardown(() => rmSync(root, { recursive: true, force: true }))
  pod(root, 'web-2', true) // its container is named web: the text holds "web" without the pod being web
  pod(root, 'old', false)
  pod(root, 'q"uo\\te é', true)
  t.doesNotThrow(() => assertNameFree(root, 'web'))
  t.doesNotThrow(() => assertNameFree(root, 'old'), 'an ended pod frees its name')
  t.throws(() => assertNameFree(root, 'web-2'), { code: 'EEXIST', message: /pod\.create: web-2: a pod of this name exists/ })
  t.throws(() => assertNameFree(root, 'q"uo\\te é'), { code: 'EEXIST' }, 'a name JSON escapes is found as written')
  writeFileSync(join(root, uid().replace(/.$/, 'f')), '') // a stray file is no pod
  mkdirSync(join(root, uid())) // a pod directory without a record is skipped
  t.doesNotThrow(() => assertNameFree(root, 'web'))
})

t.test('readRecordMentioning parses only a record that holds the text; errors as readRecord', async t => {
  const root = mkdtempSync(join(tmpdir(), 'pl-admit-'))
  t.teardown(() => rmSync(root, { recursive: true, force: true }))
  const r = pod(root, 'api', true)
  t.equal(readRecordMentioning(root, r.id, '"nothing"'), undefined)
  t.equal(readRecordMentioning(root, r.id, '"api"')?.name, 'api')
  writeFileSync(join(root, r.id, 'pod.json'), '{"name": "api"')
  t.throws(() => readRecordMentioning(root, r.id, '"api"'), { code: 'STATE_CORRUPT' })
  t.throws(() => readRecordMentioning(root, uid(), '"api"'), { code: 'POD_NOT_FOUND' })
})
