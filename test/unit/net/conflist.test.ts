import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { confFiles, findConfList, parseConfList } from '../../../src/net/index.js'

const F = '/etc/pod-launch/net.d/10-x.conflist'
const good = {
  cniVersion: '1.0.0',
  name: 'plt-net',
  plugins: [
    { type: 'bridge', bridge: 'plt0' },
    { type: 'portmap', capabilities: { portMappings: true } },
  ],
}

for (const v of ['0.4.0', '1.0.0', '1.1.0']) {
  t.test(`a ${v} conflist loads`, async t => {
    const l = parseConfList(JSON.stringify({ ...good, cniVersion: v }), F)
    t.equal(l.cniVersion, v)
    t.equal(l.name, 'plt-net')
    t.same(
      l.plugins.map(p => p.type),
      ['bridge', 'portmap'],
    )
    t.equal(l.file, F)
    t.equal(l.disableCheck, false)
  })
}

t.test('cniVersions (1.1.0) picks the highest version we support', async t => {
  t.equal(parseConfList(JSON.stringify({ ...good, cniVersion: undefined, cniVersions: ['0.3.1', '1.0.0', '9.9.9'] }), F).cniVersion, '1.0.0')
  t.equal(parseConfList(JSON.stringify({ ...good, cniVersions: ['9.9.9'] }), F).cniVersion, '1.0.0', 'falls back to cniVersion')
})

t.test('a single-plugin .conf becomes a one-plugin list', async t => {
  const l = parseConfList(JSON.stringify({ cniVersion: '0.4.0', name: 'single', type: 'bridge', bridge: 'plt0', ipam: { type: 'host-local' } }), '/x/10.conf')
  t.same(l.plugins, [{ type: 'bridge', bridge: 'plt0', ipam: { type: 'host-local' } }])
})

t.test('invalid configs are refused naming the file and the field', async t => {
  const cases: [unknown, string][] = [
    ['{', '(file): not JSON'],
    [[], '(file): must be a JSON object'],
    [{ ...good, name: undefined }, 'name: required'],
    [{ ...good, name: '-bad name' }, 'name: "-bad name" must start with a letter or digit'],
    [{ ...good, cniVersion: undefined }, 'cniVersion: required'],
    [{ ...good, cniVersion: '0.3.1' }, 'cniVersion: "0.3.1" is not supported: use one of 0.4.0, 1.0.0, 1.1.0'],
    [{ ...good, cniVersions: 'x' }, 'cniVersions: must be an array of version strings'],
    [{ ...good, cniVersion: undefined, cniVersions: ['0.1.0'] }, 'cniVersions: none of ["0.1.0"] is supported'],
    [{ ...good, plugins: [] }, 'plugins: must be a non-empty array'],
    [{ ...good, plugins: [{ bridge: 'x' }] }, 'plugins[0].type: required'],
    [{ ...good, plugins: [{ type: 'bridge' }, 'portmap'] }, 'plugins[1]: must be an object'],
    [{ ...good, plugins: [{ type: '../bin/sh' }] }, 'plugins[0].type: "../bin/sh" must be a plain binary name'],
    [{ ...good, plugins: [{ type: 'portmap', capabilities: { portMappings: 'yes' } }] }, 'plugins[0].capabilities: must map capability names to true/false'],
    [{ cniVersion: '1.0.0', name: 'n' }, 'plugins: required'],
    [{ ...good, disableCheck: 'no' }, 'disableCheck: must be true or false'],
  ]
  for (const [conf, msg] of cases) {
    const text = typeof conf === 'string' ? conf : JSON.stringify(conf)
    t.throws(() => parseConfList(text, F), { step: 'cni.config', code: 'CNI_CONFIG_INVALID', exitCode: 2, message: `cni.config: ${F}: ${msg}` }, msg)
  }
})

t.test('a directory: config files in name order, the first one used', async t => {
  const dir = t.testdir({
    '20-b.conflist': JSON.stringify({ ...good, name: 'b' }),
    '10-a.conf': JSON.stringify({ cniVersion: '1.0.0', name: 'a', type: 'bridge' }),
    README: 'not a config',
    '05-tmp.conflist.123.tmp': '{',
  })
  t.same(
    confFiles(dir).map(f => f.slice(dir.length + 1)),
    ['10-a.conf', '20-b.conflist'],
  )
  t.equal(findConfList(dir)?.name, 'a')
  t.equal(findConfList(join(dir, 'missing')), undefined)
  writeFileSync(join(dir, '00-bad.json'), '{"name":"x"}')
  t.throws(() => findConfList(dir), { message: /00-bad\.json: cniVersion: required/ }, 'an invalid first file is an error, not skipped')
})
