// Compare our CRI .proto with upstream's api.proto: what kubelet sends must
// decode into the same fields, and what we answer must encode as upstream
// reads it. Loaded by @grpc/proto-loader into descriptor objects (names kept
// as written), then every service method, message, field and enum value of
// OURS is looked up in upstream's. Upstream's extra methods are fine (they
// answer UNIMPLEMENTED); upstream's extra fields in a message we serve are
// drift unless the caller lists them as deliberately omitted.
import { loadSync, type PackageDefinition } from '@grpc/proto-loader'

interface Field {
  name: string
  number: number
  label: string
  type: string
  typeName: string
}
interface EnumType {
  name: string
  value: { name: string; number: number }[]
}
interface MessageType {
  name: string
  field: Field[]
  nestedType: MessageType[]
  enumType: EnumType[]
}
interface Method {
  path: string
  requestStream: boolean
  responseStream: boolean
  requestType: { type: { name: string } }
  responseType: { type: { name: string } }
}

/** Load a .proto into proto-loader's definition with the names as written. */
export function loadProto(path: string): PackageDefinition {
  return loadSync(path, { keepCase: true })
}

function fieldShape(f: Field): string {
  const kind = f.typeName ? `${f.type}(${f.typeName})` : f.type
  return `${f.label === 'LABEL_REPEATED' ? 'repeated ' : ''}${kind} = ${f.number}`
}

function compareEnum(where: string, ours: EnumType, theirs: EnumType | undefined, out: string[]): void {
  if (!theirs) return void out.push(`${where}: enum not in upstream`)
  for (const v of ours.value) {
    const u = theirs.value.find(x => x.name === v.name)
    if (!u) out.push(`${where}.${v.name}: enum value not in upstream`)
    else if (u.number !== v.number) out.push(`${where}.${v.name}: ours = ${v.number}, upstream = ${u.number}`)
  }
  for (const u of theirs.value) {
    if (!ours.value.some(v => v.name === u.name)) out.push(`${where}.${u.name}: upstream enum value missing here (= ${u.number})`)
  }
}

function compareMessage(where: string, ours: MessageType, theirs: MessageType, omitted: ReadonlySet<string>, out: string[]): void {
  for (const f of ours.field) {
    const u = theirs.field.find(x => x.name === f.name)
    if (!u) {
      out.push(`${where}.${f.name}: field not in upstream`)
      continue
    }
    if (fieldShape(u) !== fieldShape(f)) out.push(`${where}.${f.name}: ours ${fieldShape(f)}, upstream ${fieldShape(u)}`)
  }
  for (const u of theirs.field) {
    if (ours.field.some(f => f.name === u.name)) continue
    const name = `${where}.${u.name}`
    if (!omitted.has(name)) out.push(`${name}: upstream field missing here (${fieldShape(u)}); add it or list it as omitted`)
    const clash = ours.field.find(f => f.number === u.number)
    if (clash) out.push(`${where}.${clash.name}: number ${u.number} is upstream's ${u.name}`)
  }
  for (const n of ours.nestedType) {
    const u = theirs.nestedType.find(x => x.name === n.name)
    if (!u) out.push(`${where}.${n.name}: nested message not in upstream`)
    else compareMessage(`${where}.${n.name}`, n, u, omitted, out)
  }
  for (const e of ours.enumType) {
    compareEnum(
      `${where}.${e.name}`,
      e,
      theirs.enumType.find(x => x.name === e.name),
      out,
    )
  }
}

/**
 * Every difference between ours and upstream that would change the wire, one
 * line each (empty: no drift). `omitted` names upstream fields
 * (`Message.field`) we leave out on purpose.
 */
export function protoDrift(ours: PackageDefinition, upstream: PackageDefinition, omitted: ReadonlySet<string> = new Set()): string[] {
  const out: string[] = []
  for (const [name, def] of Object.entries(ours)) {
    const theirs = upstream[name]
    if (!theirs) {
      out.push(`${name}: not in upstream`)
      continue
    }
    if ('format' in def && typeof def.format === 'string') {
      const u = theirs as { format?: string; type: unknown }
      if (u.format !== def.format) out.push(`${name}: ours is ${def.format}, upstream ${String(u.format)}`)
      else if (def.format.endsWith('EnumDescriptorProto')) compareEnum(name, def.type as EnumType, u.type as EnumType, out)
      else compareMessage(name, def.type as MessageType, u.type as MessageType, omitted, out)
      continue
    }
    // A service: each of our methods must exist upstream with the same types and streaming.
    for (const [method, m] of Object.entries(def as Record<string, Method>)) {
      const u = (theirs as Record<string, Method | undefined>)[method]
      if (!u) {
        out.push(`${name}.${method}: method not in upstream`)
        continue
      }
      const sig = (x: Method) =>
        `${x.path}(${x.requestStream ? 'stream ' : ''}${x.requestType.type.name}) -> ${x.responseStream ? 'stream ' : ''}${x.responseType.type.name}`
      if (sig(m) !== sig(u)) out.push(`${name}.${method}: ours ${sig(m)}, upstream ${sig(u)}`)
    }
  }
  return out
}
