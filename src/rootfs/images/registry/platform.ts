// Which entry of an image index (manifest list) this host runs, as
// containerd's platforms matcher picks it: os linux, the GOARCH spelling of
// the architecture, and the variant when the index gives one (arm64 -> v8,
// arm -> v7 by default). Pure.
import { PodError } from '../../../errors.js'
import type { Descriptor } from '../manifest.js'
import { hostArch } from '../manifest.js'

export interface Platform {
  os: string
  architecture: string
  variant?: string
}

function hostVariant(arch: string): string | undefined {
  if (arch === 'arm64') return 'v8'
  if (arch === 'arm') return `v${(process.config.variables as Record<string, unknown>).arm_version ?? 7}`
  return undefined
}

export function hostPlatform(): Platform {
  const architecture = hostArch()
  const variant = hostVariant(architecture)
  return variant ? { os: 'linux', architecture, variant } : { os: 'linux', architecture }
}

/** `os/arch[/variant]`; throws `image.platform` (exit 2) when malformed. */
export function parsePlatform(text: string): Platform {
  const parts = text.split('/')
  if (parts.length < 2 || parts.length > 3 || parts.some(p => !/^[a-z0-9_]+$/.test(p))) {
    throw new PodError(`image.platform: ${text}: not os/arch[/variant]`, {
      step: 'image.platform',
      code: 'PLATFORM_INVALID',
      exitCode: 2,
      hint: 'for example --platform linux/amd64 or linux/arm64/v8',
    })
  }
  return parts.length === 3 ? { os: parts[0], architecture: parts[1], variant: parts[2] } : { os: parts[0], architecture: parts[1] }
}

export const formatPlatform = (p: Partial<Platform> | undefined): string => [p?.os ?? '?', p?.architecture ?? '?', ...(p?.variant ? [p.variant] : [])].join('/')

/** The entry for `want` (variant only compared when both give one); throws `image.platform` (IMAGE_NO_PLATFORM). */
export function selectPlatform(entries: Descriptor[], want: Platform, image: string): Descriptor {
  const fits = entries.filter(e => {
    const p = e.platform
    if (!p) return false
    if (p.os !== want.os || p.architecture !== want.architecture) return false
    return !p.variant || !want.variant || p.variant === want.variant
  })
  // An exact variant match beats an entry that gives none.
  const best = fits.find(e => e.platform?.variant === want.variant) ?? fits[0]
  if (best) return best
  throw new PodError(
    `image.platform: ${image}: no image for ${formatPlatform(want)} in its index (it has ${entries.map(e => formatPlatform(e.platform)).join(', ') || 'none'})`,
    {
      step: 'image.platform',
      code: 'IMAGE_NO_PLATFORM',
      hint: 'this image is not built for this machine; pick another tag, or pass --platform to pull another one',
    },
  )
}
