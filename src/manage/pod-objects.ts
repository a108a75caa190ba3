// The ConfigMaps and Secrets a detached pod reads, handed from `run -d` to
// the pod's owner through its directory: ConfigMaps in spec.json beside the
// spec, Secrets only on the pod's secrets tmpfs (never on a disk).
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { PodError } from '../errors.js'
import { PodDir } from '../pod/poddir.js'
import { readsSecrets, referencedObjects, type ConfigMapObject, type PodObjects, type PodSpec, type SecretObject } from '../spec/index.js'
import { secretObjectsFile } from '../state/index.js'

/** Put the Secrets `spec` reads on its secrets tmpfs (mounted here); returns the ConfigMaps for spec.json. */
export function handOverObjects(spec: PodSpec, root: string, objects: PodObjects): ConfigMapObject[] {
  const mine = referencedObjects(spec, objects)
  if (readsSecrets(spec)) {
    const dir = new PodDir(root, spec.uid)
    dir.openSecrets()
    const file = secretObjectsFile(dir.root)
    try {
      writeFileSync(file, JSON.stringify(mine.secrets), { mode: 0o600 })
    } catch (e) {
      throw PodError.system('state.seal', e, file)
    }
  }
  return mine.configMaps
}

/** The objects handed over: `configMaps` from spec.json, the Secrets from the tmpfs (none when there is no file). */
export function takeOverObjects(podDir: string, configMaps: ConfigMapObject[] = []): PodObjects {
  const file = secretObjectsFile(podDir)
  if (!existsSync(file)) return { configMaps, secrets: [] }
  try {
    return { configMaps, secrets: JSON.parse(readFileSync(file, 'utf8')) as SecretObject[] }
  } catch (e) {
    // JSON.parse quotes the text it failed on: never a Secret's value in a message.
    throw new PodError(`state.seal: ${file}: unreadable (${(e as NodeJS.ErrnoException).code ?? 'not JSON'})`, { step: 'state.seal', code: 'EINVAL' })
  }
}
