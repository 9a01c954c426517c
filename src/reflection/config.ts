// Reflection settings from the environment. Pure: main.ts passes its env in.
//
// On by default: reflection describes exactly the published contract (the
// proto in this repository, the health and reflection services, google.rpc
// details), nothing a caller could not read already, and it is what lets
// buf curl, grpcurl and grpcui work without a copy of the proto. Turn it off
// where even the list of methods should not be discoverable.
import { SECTIONS, boolean, helpOf, read, setting, type Env, type EnvHelp } from "../config-values.js";

export interface ReflectionConfig {
  readonly enabled: boolean;
}

export const REFLECTION_SETTINGS = {
  enabled: setting({
    name: "REFLECTION",
    section: SECTIONS.observability,
    ...boolean,
    default: true,
    help: "Serve gRPC server reflection (v1 and v1alpha), so grpcurl, grpcui and buf curl --reflect need no proto.",
  }),
};

export const REFLECTION_ENV_HELP: readonly EnvHelp[] = helpOf(Object.values(REFLECTION_SETTINGS));

export function parseReflectionConfig(env: Env): ReflectionConfig {
  return { enabled: read(env, REFLECTION_SETTINGS.enabled) };
}
