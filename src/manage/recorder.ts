// A pod's record kept by its owner (the supervisor of a detached pod, the CLI
// process of a foreground one): the cgroup plan before any cgroup or process
// exists, then a snapshot after every lifecycle event. So whatever moment the
// owner dies at, rm --force and gc find everything the pod made.
import { existsSync } from 'node:fs'
import { crashPoint } from '../crash-point.js'
import type { Pod, PodEvent, PodOptions } from '../pod/index.js'
import { podDir, startTicks, writeRecord, type PodRecord } from '../state/index.js'
import { podSnapshot } from './snapshot.js'

export class RecordKeeper {
  private pod?: Pod

  constructor(
    private readonly root: string,
    public record: PodRecord,
    private readonly warn: (m: string) => void,
  ) {}

  /** The running pod: later saves snapshot it. */
  attach(pod: Pod): void {
    this.pod = pod
  }

  /** Write the record now; a failure is a warning (teardown never waits on a record write). */
  save(): void {
    if (this.pod) this.record = podSnapshot(this.pod, this.record)
    if (!existsSync(podDir(this.root, this.record.id))) return // removed with the pod
    try {
      writeRecord(this.root, this.record)
    } catch (e) {
      this.warn(`pod ${this.record.name}: record not written: ${(e as Error).message}`)
    }
  }

  /** PodOptions.onIntent: the plan must be on disk before the cgroups exist (a failure aborts the start). */
  readonly onIntent: NonNullable<PodOptions['onIntent']> = ({ cgroups }) => {
    this.record = { ...this.record, cgroups: { plan: cgroups } }
    writeRecord(this.root, this.record)
  }

  /** PodOptions.onEvent: each event is saved as it happens. */
  readonly onEvent = (e: PodEvent): void => {
    if (e.type === 'pod-removed') return
    if (e.type === 'sandbox-started') this.record.pause = { pid: e.pid, startTicks: startTicks(e.pid) ?? '', namespaces: e.namespaces }
    this.save()
    if (e.type === 'sandbox-started') crashPoint('sandbox-recorded')
  }
}
