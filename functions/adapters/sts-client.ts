/**
 * The STS client and its AssumeRole command, in a module of their own so that an adapter can load them on first
 * use (`await import('./sts-client.js')`): bundled, the import of `@aws-sdk/client-sts` then runs only when that
 * module is first imported, not at cold start (esbuild wraps a dynamically imported module in a lazy initialiser).
 * Whether STS is then in the bundle or the runtime's copy is `BUNDLES_STS` (infra/constructs/bundling.ts).
 */
export { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
