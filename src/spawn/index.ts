export {
  native,
  useNative,
  pausePath,
  shimPath,
  type Native,
  type NativeError,
  type NativePlan,
  type NsType,
  type NativeMount,
  type NativeSeccompProfile,
  type NativeSpawned,
} from './native.js'
export { makePipe, makeSocketPair, spawnProcess, stopProcess, signalNumber, ChildProcessHandle, type ExitStatus, type SpawnOptions } from './process.js'
export { parseReport, reportError, reportObject, type PlanPaths, type StepReport } from './report.js'
export {
  bindPlan,
  checkPlan,
  nsRef,
  parseNsRef,
  planPaths,
  PLAN_VERSION,
  unsealPlan,
  type SealedLists,
  type PlanBindings,
  type PlanJoin,
  type PlanPid,
  type SpawnPlan,
} from './spawn-plan.js'
export { encodePlan, cString, RecordWriter, PLAN_TAG, type PlanToEncode } from './plan-codec.js'
