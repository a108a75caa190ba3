// $(VAR) expansion as Kubernetes does it (k8s.io/kubernetes third_party
// forked/golang/expansion): $(NAME) is replaced when NAME is defined, left
// as written when not; $$ is an escaped $; anything else is kept verbatim.

export function expand(input: string, lookup: (name: string) => string | undefined): string {
  let out = ''
  for (let i = 0; i < input.length; i++) {
    const c = input[i]
    if (c !== '$' || i + 1 >= input.length) {
      out += c
      continue
    }
    const next = input[i + 1]
    if (next === '$') {
      out += '$'
      i++
    } else if (next === '(') {
      const close = input.indexOf(')', i + 2)
      if (close < 0) {
        out += input.slice(i) // unterminated: kept as written
        break
      }
      const name = input.slice(i + 2, close)
      const value = lookup(name)
      out += value ?? `$(${name})`
      i = close
    } else {
      out += c
    }
  }
  return out
}
