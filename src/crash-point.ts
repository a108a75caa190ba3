// Fault injection for the crash tests: `POD_LAUNCH_TEST_CRASH_AFTER=<step>`
// SIGKILLs this process (the CLI, or the engine) right after that step of start or stop, so every crash
// window is tested by name, not by timing. Unset (always, outside tests): no-op.

/** Every step a crash can follow, in the order a run -d, stop sequence passes them. */
export const CRASH_STEPS = [
  'client-record', // run -d: the client wrote the record, the engine does not drive the pod yet
  'engine-record', // the engine put itself in the record as the pod's owner
  'pod-dir', // the pod's directory is made
  'intent', // the cgroup plan is recorded, no cgroup exists yet
  'cgroups', // the pod's cgroups exist, no process yet
  'volumes', // volumes are prepared (a Memory emptyDir is mounted)
  'shim-recorded', // run -d: the pod's shim runs and the record names it (no pause yet)
  'sandbox', // pause runs
  'sandbox-recorded', // the record names pause
  'container-started', // a container runs (before its start is recorded)
  'running', // the pod is Running and recorded
  'stop-requested', // the engine (or a foreground run) received the stop request
  'containers-stopped', // every container has exited, teardown not begun
  'teardown-step', // the first undo of the teardown ran
] as const

export type CrashStep = (typeof CRASH_STEPS)[number]

/** SIGKILL ourselves when the test asked for a crash after `step`. */
export function crashPoint(step: CrashStep): void {
  if (process.env.POD_LAUNCH_TEST_CRASH_AFTER === step) process.kill(process.pid, 'SIGKILL')
}
