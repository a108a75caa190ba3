// A CriServer of the test's own on a socket in a temporary directory, and
// @grpc/grpc-js clients of its two services, called as kubelet's client
// calls them (method name, then the request in the CRI's field names).
import type { Test } from 'tap'
import { credentials, makeGenericClientConstructor, type Client, type ServiceError } from '@grpc/grpc-js'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CriServer, criServices } from '../../src/cri/index.js'

export type Call = (req: object) => Promise<Record<string, unknown>>

/** Serve on `<tmp>/cri.sock` with state under `<tmp>/root` (`--network none` unless `extra` says otherwise); all removed at teardown. */
export async function serveCri(t: Test, extra: Partial<Parameters<typeof CriServer.start>[0]> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'pl-cri-unit-'))
  const server = await CriServer.start({ listen: `unix://${join(dir, 'cri.sock')}`, root: join(dir, 'root'), network: 'none', log: () => {}, ...extra })
  const { runtime, image } = criServices()
  const connect = (def: typeof runtime) => new (makeGenericClientConstructor(def, ''))(`unix://${server.socket}`, credentials.createInsecure())
  const clients: Client[] = [connect(runtime), connect(image)]
  const call =
    (client: Client) =>
    (method: string): Call =>
    req =>
      new Promise((resolve, reject) =>
        (client as unknown as Record<string, (r: object, cb: (e: ServiceError | null, v: Record<string, unknown>) => void) => void>)[method](req, (e, v) =>
          e ? reject(e) : resolve(v),
        ),
      )
  t.teardown(async () => {
    for (const c of clients) c.close()
    await server.close()
    rmSync(dir, { recursive: true, force: true })
  })
  return { server, dir, rt: call(clients[0]), img: call(clients[1]), raw: clients[0] }
}
