// node:crypto, loaded when first asked for: importing it statically cost ~3.5
// ms of every CLI start, and most commands never hash or draw a random number.
import { createRequire } from 'node:module'

let loaded: typeof import('node:crypto') | undefined

export const nodeCrypto = (): typeof import('node:crypto') => (loaded ??= createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto'))
