// A pod's record kept by its owner (the engine of a detached pod, the CLI
// process of a foreground one): the cgroup plan before any cgroup or process
// exists, then a snapshot after every lifecycle event. So whatever moment the
// owner dies at, rm --force and gc find everything the pod made. The record
// also carries what kubelet would publish: the pod's conditions with their
// transition times and its events. A running foreground pod's events are
// saved together, once per turn of the event loop (see coalesce).
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
  /** Events are saved once per turn of the event loop (coalesce), until the pod ends. */
  private coalescing = false
  /** A save waits for the end of this turn of the event loop. */
  private pending = false

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
    this.pending = false
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

  /**
   * A running foreground pod (its start recorded): from now on the events of one turn of the event
   * loop are saved together at its end (setImmediate), not one write each (a pod.json of 10
   * containers is ~170 KB, and each container's exit brings two events). Its processes die with its
   * CLI, and gc finds them by the record written at start. The pod's end (a terminal phase) and
   * every event after it are saved at once: the pod's directory is removed next, and no write may
   * land in it meanwhile.
   */
  coalesce(): void {
    this.coalescing = true
  }

  /** PodOptions.onEvent: each event is saved as it happens (or coalesced, see coalesce). */
  readonly onEvent = (e: PodEvent): void => {
    if (e.type === 'pod-removed') return
    if (e.type === 'image-pull') return this.onImagePull(e)
    if (e.type === 'sandbox-started') this.record.pause = { ...processIdentity(e.pid), namespaces: e.namespaces }
    // kubelet records SandboxChanged (Normal) on the pod when it re-creates a dead sandbox.
    if (e.type === 'sandbox-changed') this.addEvents([{ type: 'Normal', reason: e.reason, message: e.message }])
    this.addEvents(kubeletEvents(e, this.record))
    if (e.type === 'pod-phase' && (e.phase === 'Succeeded' || e.phase === 'Failed')) this.coalescing = false
    if (this.coalescing) this.saveSoon()
    else this.save()
    if (e.type === 'sandbox-started') crashPoint('sandbox-recorded')
  }

  private saveSoon(): void {
    if (this.pending) return
    this.pending = true
    setImmediate(() => {
      if (this.pending && this.coalescing) this.save()
    })
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
