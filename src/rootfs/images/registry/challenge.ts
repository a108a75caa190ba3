// WWW-Authenticate challenges (RFC 7235 auth-params) as registries send them:
//   Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"
//   Basic realm="Registry Realm"
// Pure.

export interface Challenge {
  scheme: 'bearer' | 'basic' | string
  params: Record<string, string>
}

/** The first challenge of a WWW-Authenticate header value, or undefined. */
export function parseChallenge(header: string | undefined): Challenge | undefined {
  if (!header) return undefined
  const m = /^\s*([A-Za-z][\w-]*)\s*(.*)$/s.exec(header)
  if (!m) return undefined
  const params: Record<string, string> = {}
  const re = /([\w-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,"]+))\s*,?\s*/gy
  const rest = m[2]
  re.lastIndex = 0
  let p: RegExpExecArray | null
  while ((p = re.exec(rest)) !== null) params[p[1].toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : p[3]
  return { scheme: m[1].toLowerCase(), params }
}
