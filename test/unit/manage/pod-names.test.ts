import t from 'tap'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { assertNameFree } from '../../../src/manage/admit.js'
import { processIdentity, readRecordMentioning, resolvePod, writeRecord, type PodRecord } from '../../../src/state/index.js'
import type { PodSpec } from '../../../src/spec/index.js'

const spec = { containers: [{ name: 'web' }], initContainers: [] } as unknown as PodSpec
let n = 0
const uid = (prefix = '00000000') => `${prefix}-0000-4000-8000-${String(++n).padStart(12, '0')}`

function pod(root: string, name: string, live: boolean, id = uid()): PodRecord {
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

t.test('resolvePod: an id, a name, a unique id prefix; ambiguous and missing references', async t => {
  const root = mkdtempSync(join(tmpdir(), 'pl-resolve-'))
  t.teardown(() => rmSync(root, { recursive: true, force: true }))
  const a = pod(root, 'a', true, uid('aaaaaaaa'))
  const b = pod(root, 'web', true, uid('bbbbbbbb'))
  const b2 = pod(root, 'web', false, uid('bbbbcccc'))
  const broken = uid('dddddddd')
  mkdirSync(join(root, broken))
  writeFileSync(join(root, broken, 'pod.json'), '{"name": "a"')
  t.equal(resolvePod(root, a.id).record?.name, 'a', 'by id')
  t.equal(resolvePod(root, 'a').id, a.id, 'by name: a corrupt record that mentions it does not count')
  t.equal(resolvePod(root, 'aaaa').id, a.id, 'by prefix')
  t.equal(resolvePod(root, 'bbbbc').id, b2.id)
  t.throws(() => resolvePod(root, 'web'), { code: 'AMBIGUOUS', message: /web: matches 2 pods/ }, 'two pods named web')
  t.throws(() => resolvePod(root, 'bbbb'), { code: 'AMBIGUOUS' }, 'a prefix of two ids')
  t.equal(resolvePod(root, b.id).record?.phase, 'Running')
  t.match(resolvePod(root, broken), { id: broken, error: { code: 'STATE_CORRUPT' } }, 'a corrupt record by id: its error, to be removed')
  t.match(resolvePod(root, 'dddd'), { id: broken, error: { code: 'STATE_CORRUPT' } }, 'and by prefix')
  t.throws(() => resolvePod(root, 'zzz'), { code: 'POD_NOT_FOUND' })
})
