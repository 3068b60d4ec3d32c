import { ChildProcess, spawn } from 'node:child_process';

/** A built service (broker, agent) started by a test, listening on a loopback port. */
export interface ServiceProcess {
  url: string;
  port: number;
  child: ChildProcess;
  /** Everything the process wrote, stdout and stderr. */
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

interface Launch {
  /** Names the process in errors ("broker", "agent"). */
  name: string;
  /** Node's arguments: runtime flags, then the main file. */
  args: string[];
  /** The whole environment of the child: nothing else of the test runner's reaches it. */
  env: NodeJS.ProcessEnv;
  cwd: string;
}

function launch({ args, env, cwd }: Launch): { child: ChildProcess; output(): string } {
  const child = spawn(process.execPath, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return { child, output: () => output };
}

/** Starts the service and resolves once `GET <healthPath>` answers 200 on `port`. */
export async function startService(
  options: Launch & { port: number; healthPath: string; timeoutMs: number; pollMs: number },
): Promise<ServiceProcess> {
  const { child, output } = launch(options);
  const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)));
  const url = `http://127.0.0.1:${options.port}`;
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`${options.name} exited with ${child.exitCode}:\n${output()}`);
    try {
      const response = await fetch(`${url}${options.healthPath}`);
      if (response.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(
        `${options.name}: ${options.healthPath} not 200 within ${options.timeoutMs} ms:\n${output()}`,
      );
    }
    await new Promise((resolveSleep) => setTimeout(resolveSleep, options.pollMs));
  }
  return {
    url,
    port: options.port,
    child,
    output,
    stop: async (signal: NodeJS.Signals = 'SIGTERM') => {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill(signal);
      return exited;
    },
  };
}

/** Runs the service expecting it to exit by itself (a refused configuration); its exit code and output. */
export function runToExit(
  options: Launch & { timeoutMs: number },
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolveRun, reject) => {
    const { child, output } = launch(options);
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${options.name} did not exit within ${options.timeoutMs} ms:\n${output()}`));
    }, options.timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolveRun({ code, output: output() });
    });
  });
}
