// A pod's record kept by its owner (the engine of a detached pod, the CLI
// process of a foreground one): the cgroup plan before any cgroup or process
// exists, then a snapshot after every lifecycle event. So whatever moment the
// owner dies at, rm --force and gc find everything the pod made. The record
// also carries what kubelet would publish: the pod's conditions with their
// transition times and its events.
import { existsSync } from 'node:fs'
import { crashPoint } from '../crash-point.js'
import { imagePullView, type ImagePullEvent, type Pod, type PodEvent, type PodOptions } from '../pod/index.js'
import { addEvent, podDir, processIdentity, writeRecord, type PodRecord, type WaitingReason } from '../state/index.js'
import { containerFieldPath, podSnapshot, waitingStatuses } from './snapshot.js'
import { describeFailure, type PodError } from '../errors.js'
import { updateConditions } from './conditions.js'
import { kubeletEvents, stoppingEvents } from './events.js'

export class RecordKeeper {
  private pod?: Pod
  /** Containers waiting for their image, before the pod exists (ErrImagePull...). */
  private readonly waiting = new Map<string, { reason: WaitingReason; message?: string }>()
  /** The last write failure warned about: one warning per kind of failure, not one per event. */
  private failing?: string

  constructor(
    private readonly root: string,
    public record: PodRecord,
    private readonly warn: (m: string) => void,
  ) {}

  /** The running pod: later saves snapshot it. */
  attach(pod: Pod): void {
    this.pod = pod
  }

  /** Write the record now; a failure is a warning (teardown never waits on a record write), once until a write succeeds. */
  save(): void {
    if (this.pod) this.record = podSnapshot(this.pod, this.record)
    this.record = { ...this.record, conditions: updateConditions(this.record) }
    if (!existsSync(podDir(this.root, this.record.id))) return // removed with the pod
    try {
      writeRecord(this.root, this.record)
      this.failing = undefined
    } catch (e) {
      const code = (e as PodError).code ?? 'error'
      if (this.failing !== code) this.warn(`pod ${this.record.name}: record not written (ps and inspect show an older state): ${describeFailure(e)}`)
      this.failing = code
    }
  }

  /** The pod's shim runs: from now on it is the process whose life is the pod's (written at once). */
  setOwner(pid: number): void {
    this.record = { ...this.record, supervisor: processIdentity(pid) }
    writeRecord(this.root, this.record)
    crashPoint('shim-recorded')
  }

  /** PodOptions.onIntent: the plan must be on disk before the cgroups exist (a failure aborts the start). */
  readonly onIntent: NonNullable<PodOptions['onIntent']> = ({ cgroups }) => {
    this.record = { ...this.record, cgroups: { plan: cgroups } }
    writeRecord(this.root, this.record)
  }

  /** PodOptions.onEvent: each event is saved as it happens. */
  readonly onEvent = (e: PodEvent): void => {
    if (e.type === 'pod-removed') return
    if (e.type === 'image-pull') return this.onImagePull(e)
    if (e.type === 'sandbox-started') this.record.pause = { ...processIdentity(e.pid), namespaces: e.namespaces }
    // kubelet records SandboxChanged (Normal) on the pod when it re-creates a dead sandbox.
    if (e.type === 'sandbox-changed') this.addEvents([{ type: 'Normal', reason: e.reason, message: e.message }])
    this.addEvents(kubeletEvents(e, this.record))
    this.save()
    if (e.type === 'sandbox-started') crashPoint('sandbox-recorded')
  }

  /** kubelet's events for these, counted with the ones before (state/events.ts). */
  private addEvents(added: Parameters<typeof addEvent>[1][]): void {
    let events = this.record.events ?? []
    for (const ev of added) events = addEvent(events, ev)
    this.record = { ...this.record, events }
  }

  /** A stop was asked for: kubelet's `Killing` event for each running container. */
  stopping(): void {
    this.addEvents(stoppingEvents(this.record))
    this.save()
  }

  /** The containers' Waiting reasons and kubelet's events while the images are pulled. */
  private onImagePull(e: ImagePullEvent): void {
    const view = imagePullView(e)
    let events = this.record.events ?? []
    for (const c of e.containers) {
      // A retry keeps the last failure's reason (ErrImagePull, ImagePullBackOff) while it pulls, as kubelet's
      // status keeps its last sync error until a sync succeeds; a pull that succeeds clears it.
      const retrying = e.state === 'pulling' && this.waiting.has(c)
      if (view.waiting.reason !== 'ContainerCreating') this.waiting.set(c, view.waiting)
      else if (!retrying) this.waiting.delete(c)
      for (const ev of view.events) events = addEvent(events, { ...ev, fieldPath: containerFieldPath(this.record.spec, c) })
    }
    this.record = { ...this.record, events }
    if (!this.pod) this.record = { ...this.record, ...waitingStatuses(this.record.spec, this.waiting) }
    this.save()
  }
}
