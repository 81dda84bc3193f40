import { getHubConfig, HubClient } from './huggingface.js';
import type { HttpClient } from './http.js';

/**
 * Network clients made on first use (a local lock never loads undici), shared by every source of
 * one command and closed once at its end.
 */
export class Network {
  private httpClient?: Promise<HttpClient>;
  private hubClient?: Promise<HubClient>;

  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {}

  http(): Promise<HttpClient> {
    this.httpClient ??= import('./http.js').then(({ HttpClient }) => new HttpClient());
    return this.httpClient;
  }

  hub(): Promise<HubClient> {
    this.hubClient ??= this.http().then((http) => new HubClient(http, getHubConfig(this.env)));
    return this.hubClient;
  }

  async close(): Promise<void> {
    await (await this.httpClient)?.close();
  }
}
