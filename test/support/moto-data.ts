/**
 * moto's dump of every backend (`/moto-api/data.json`), the tests' window on what the emulator holds (SNS
 * messages published, for one). moto builds it by walking every backend's dictionaries while its threaded
 * server keeps serving, so a request that lands while another call changes a dictionary fails with an HTML
 * error page instead of JSON ("dictionary changed size during iteration"). Reading it is idempotent: retried.
 */
export async function motoData<T = unknown>(endpoint: string, attempts = 20): Promise<T> {
  let last = '';
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const res = await fetch(`${endpoint}/moto-api/data.json`);
    const text = await res.text();
    if (res.ok) {
      try {
        return JSON.parse(text) as T;
      } catch {
        // fall through: an error page served with 200
      }
    }
    last = `HTTP ${res.status}: ${text.slice(0, 200)}`;
    await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
  }
  throw new Error(`moto's /moto-api/data.json did not answer JSON in ${attempts} attempts (last: ${last})`);
}
