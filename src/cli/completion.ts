// `pod-launch completion bash|zsh`: a script that asks pod-launch itself
// (yargs' --get-yargs-completions) for the words that may come next.

const BASH = `# pod-launch completion (bash): source <(pod-launch completion bash)
_pod_launch_complete() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" words
  words=$(pod-launch --get-yargs-completions "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null)
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
  # No word known (a manifest, a path): complete file names.
  if [ \${#COMPREPLY[@]} -eq 0 ]; then COMPREPLY=($(compgen -f -- "$cur")); fi
}
complete -o filenames -F _pod_launch_complete pod-launch
`

/** The completion script for `shell`; zsh runs the bash one through bashcompinit. */
export function completionScript(shell: string): string {
  if (shell === 'bash') return BASH
  const header = '# pod-launch completion (zsh): source <(pod-launch completion zsh)\nautoload -U +X bashcompinit && bashcompinit'
  return `${header}\n${BASH.split('\n').slice(1).join('\n')}`
}
