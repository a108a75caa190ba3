// The pod network: CNI plugins driven by the protocol in cni.ts (DESIGN section 7).
export { parseConfList, loadConfList, findConfList, confFiles, type ConfList, type PluginConf } from './conflist.js'
export {
  parseResult,
  convertResult,
  parseErrorResult,
  pluginError,
  podIPs,
  SUPPORTED_VERSIONS,
  type CniResult,
  type CniIP,
  type CniInterface,
} from './result.js'
export { execPlugin, findPlugin, type RuntimeConf, type CniCommand } from './exec.js'
export { addNetwork, delNetwork, checkNetwork, pluginConfig } from './cni.js'
export { DEFAULT_CONF_DIR, DEFAULT_BIN_DIRS, DEFAULT_BRIDGE, pickSubnet, parseProcRoutes, overlaps, defaultConfList, writeDefaultConfList } from './default.js'
export {
  planNetwork,
  describeNetwork,
  attachNetwork,
  detachFromRecord,
  checkFromRecord,
  networkRecordIds,
  networkRecordLive,
  type NetworkRecord,
  type AttachedNetwork,
} from './pod-network.js'
export { networkSettings, portMappings, planLocalNetwork, CNI_INSTALL_HINT, type NetworkOptions, type NetworkPlan, type PortMapping } from './settings.js'
