/** Whether a bind address is this machine only: serving there exposes nothing to the network. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}
