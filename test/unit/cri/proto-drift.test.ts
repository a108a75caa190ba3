// The drift comparer itself (the Go lane runs it against upstream's file):
// it must see a renumbered field, a changed type, a missing field, a changed
// enum value and a changed method, here on our own .proto and copies of it.
import t, { type Test } from 'tap'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { loadProto, protoDrift } from '../../helpers/proto-drift.js'

const ours = readFileSync(new URL('../../../proto/cri-runtime-v1.proto', import.meta.url), 'utf8')

function driftAfter(t: Test, edit: (text: string) => string, omitted?: Set<string>): string[] {
  const dir = t.testdir({})
  const changed = edit(ours)
  t.not(changed, ours, 'the edit applies')
  writeFileSync(join(dir, 'upstream.proto'), changed)
  return protoDrift(loadProto(new URL('../../../proto/cri-runtime-v1.proto', import.meta.url).pathname), loadProto(join(dir, 'upstream.proto')), omitted)
}

t.test('our .proto compared with itself shows no drift', t => {
  const path = new URL('../../../proto/cri-runtime-v1.proto', import.meta.url).pathname
  t.same(protoDrift(loadProto(path), loadProto(path)), [])
  t.end()
})

t.test('a renumbered field is drift', t => {
  t.same(
    driftAfter(t, s => s.replace('string runtime_api_version = 4;', 'string runtime_api_version = 5;')),
    ['runtime.v1.VersionResponse.runtime_api_version: ours TYPE_STRING = 4, upstream TYPE_STRING = 5'],
  )
  t.end()
})

t.test('a changed type or label is drift', t => {
  t.same(
    driftAfter(t, s => s.replace('int64 created_at = 7;', 'int32 created_at = 7;')),
    ['runtime.v1.Container.created_at: ours TYPE_INT64 = 7, upstream TYPE_INT32 = 7'],
  )
  t.same(
    driftAfter(t, s => s.replace('  repeated string cmd = 2;\n  int64 timeout = 3;', '  string cmd = 2;\n  int64 timeout = 3;')),
    ['runtime.v1.ExecSyncRequest.cmd: ours repeated TYPE_STRING = 2, upstream TYPE_STRING = 2'],
  )
  t.end()
})

t.test('an upstream field we lack is drift unless listed as omitted', t => {
  const edit = (s: string) => s.replace('message ImageFsInfoRequest {}', 'message ImageFsInfoRequest {\n  string extra = 1;\n}')
  t.same(driftAfter(t, edit), ['runtime.v1.ImageFsInfoRequest.extra: upstream field missing here (TYPE_STRING = 1); add it or list it as omitted'])
  t.same(driftAfter(t, edit, new Set(['runtime.v1.ImageFsInfoRequest.extra'])), [])
  t.end()
})

t.test('enum values, nested enums and method signatures are compared', t => {
  t.same(
    driftAfter(t, s => s.replace('CGROUPFS = 1;', 'CGROUPFS = 2;')),
    ['runtime.v1.CgroupDriver.CGROUPFS: ours = 1, upstream = 2'],
  )
  t.same(
    driftAfter(t, s => s.replace('Localhost = 2;', 'Localhost = 3;')),
    ['runtime.v1.SecurityProfile.ProfileType.Localhost: ours = 2, upstream = 3'],
  )
  t.same(
    driftAfter(t, s => s.replace('returns (stream ContainerEventResponse)', 'returns (ContainerEventResponse)')),
    [
      'runtime.v1.RuntimeService.GetContainerEvents: ours /runtime.v1.RuntimeService/GetContainerEvents(GetEventsRequest) -> stream ContainerEventResponse, upstream /runtime.v1.RuntimeService/GetContainerEvents(GetEventsRequest) -> ContainerEventResponse',
    ],
  )
  t.end()
})
