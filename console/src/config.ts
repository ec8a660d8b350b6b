// Where the API is: the same origin when served by the local stack; on AWS, config.json (written
// next to the console's files at deploy time) names the API's URL.
export interface ConsoleConfig {
  apiUrl: string;
}

let loaded: ConsoleConfig = { apiUrl: "" };

export async function loadConfig(): Promise<ConsoleConfig> {
  try {
    const response = await fetch("/config.json", { cache: "no-cache" });
    if (response.ok) {
      const body = (await response.json()) as Partial<ConsoleConfig>;
      loaded = { apiUrl: (body.apiUrl ?? "").replace(/\/+$/, "") };
    }
  } catch {
    // No config: the API is on this origin.
  }
  return loaded;
}

export function apiUrl(): string {
  return loaded.apiUrl;
}
