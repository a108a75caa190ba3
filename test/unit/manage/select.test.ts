import t from 'tap'
import { matchesSelector, parseSelector, selectPods } from '../../../src/manage/select.js'
import type { PodRef } from '../../../src/state/index.js'

const labels = { app: 'web', tier: 'fe', 'example.com/team': 'a' }

t.test('kubectl label selectors: equality, inequality, sets, existence', async t => {
  const yes = [
    'app=web',
    'app==web',
    'tier!=db',
    'app in (web,api)',
    'tier notin (db)',
    'app',
    '!missing',
    'app=web,tier=fe',
    'example.com/team=a',
    'missing!=x',
    '',
  ]
  for (const s of yes) t.ok(matchesSelector(labels, parseSelector(s)), s)
  const no = ['app=api', 'tier!=fe', 'app in (api)', 'app notin (web, api)', 'missing', '!app', 'app=web,tier=db', 'missing in (x)']
  for (const s of no) t.notOk(matchesSelector(labels, parseSelector(s)), s)
})

t.test('a selector that does not parse names the term (exit 2)', async t => {
  t.throws(() => parseSelector('app in (web,)'), { step: 'select.selector', exitCode: 2, message: /"app in \(web,\)": an empty value/ })
  t.throws(() => parseSelector('a b c'), { message: /"a b c": not a requirement/, hint: /key in \(a,b\)/ })
  t.throws(() => parseSelector('-bad=x'), { message: /"-bad" is not a label key/ })
})

const pod = (id: string, name: string, phase: string, l: Record<string, string> = {}, namespace = 'default'): PodRef =>
  ({ id, record: { id, name, namespace, phase, supervisor: null, spec: { labels: l } } }) as unknown as PodRef

const pods = [
  pod('aaa1', 'web-1', 'Succeeded', { app: 'web' }),
  pod('bbb2', 'db', 'Failed', { app: 'db' }, 'prod'),
  pod('aab3', 'web-2', 'Succeeded', { app: 'web', canary: 'yes' }),
]
const names = (ps: PodRef[]) => ps.map(p => p.record!.name)

t.test('--filter: name (regex), id (prefix), label, phase or status, namespace; a key twice is either, keys together are all', async t => {
  t.same(names(selectPods(pods, { filters: ['name=^web'] })), ['web-1', 'web-2'])
  t.same(names(selectPods(pods, { filters: ['id=aa'] })), ['web-1', 'web-2'])
  t.same(names(selectPods(pods, { filters: ['label=canary'] })), ['web-2'])
  t.same(names(selectPods(pods, { filters: ['label=app=db'] })), ['db'])
  t.same(names(selectPods(pods, { filters: ['phase=failed'] })), ['db'])
  t.same(names(selectPods(pods, { filters: ['status=Succeeded', 'status=Failed'] })), ['web-1', 'db', 'web-2'])
  t.same(names(selectPods(pods, { filters: ['name=web', 'label=canary'] })), ['web-2'])
  t.same(names(selectPods(pods, { filters: ['namespace=prod'] })), ['db'])
  t.same(names(selectPods(pods, { selector: 'app=web', filters: ['id=aaa'] })), ['web-1'])
})

t.test('an unknown filter gets the nearest key; a filter without value is refused', async t => {
  t.throws(() => selectPods(pods, { filters: ['nmae=x'] }), {
    step: 'select.filter',
    message: /"nmae=x": unknown filter \(did you mean "name"\?\)/,
    exitCode: 2,
  })
  t.throws(() => selectPods(pods, { filters: ['label'] }), { message: /a value is required/ })
  t.throws(() => selectPods(pods, { filters: ['name=(('] }), { message: /"name=\(\(": Invalid regular expression/ })
})
