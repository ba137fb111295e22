/**
 * The Node major the service is built, tested and shipped for: `.nvmrc`, `engines` in
 * package.json and the Dockerfile's base image name it too (a spec keeps them equal).
 */
export const REQUIRED_NODE_MAJOR = 24;

/** The line to stop with when `version` (as `process.version`) is another major; else undefined. */
export function nodeVersionProblem(program: string, version: string): string | undefined {
  const major = Number(/^v?(\d+)\./.exec(version)?.[1]);
  if (major === REQUIRED_NODE_MAJOR) return undefined;
  return (
    `${program}: needs Node ${REQUIRED_NODE_MAJOR} (the exact version is in .nvmrc), ` +
    `and this is Node ${version}; \`nvm use\` or \`fnm use\` in the repository reads .nvmrc`
  );
}

/**
 * Stops the process with that one line on stderr (exit 1) on another Node major. Entry points
 * call it before they import anything else: on another Node the first sign of trouble would
 * otherwise be a stack trace from deep inside a dependency, with no word of the version.
 */
export function requireNodeMajor(program: string): void {
  const problem = nodeVersionProblem(program, process.version);
  if (problem === undefined) return;
  process.stderr.write(`${problem}\n`);
  process.exit(1);
}

/** Where an entry point listens, and the variable that chooses its port. */
export interface ListenAddress {
  host: string;
  port: number;
  portVariable: string;
}

/** The line to stop with when `error` is a taken port; else undefined (the caller rethrows). */
export function addressInUseProblem(program: string, error: unknown, { host, port, portVariable }: ListenAddress): string | undefined {
  if ((error as NodeJS.ErrnoException | undefined)?.code !== 'EADDRINUSE') return undefined;
  return `${program}: port ${port} on ${host} is already in use (another copy running?); stop it, or set ${portVariable} to a free port`;
}

/** Stops the process with that one line on stderr (exit 1), no stack, when the port is taken. */
export function exitIfAddressInUse(program: string, error: unknown, address: ListenAddress): void {
  const problem = addressInUseProblem(program, error, address);
  if (problem === undefined) return;
  process.stderr.write(`${problem}\n`);
  process.exit(1);
}
