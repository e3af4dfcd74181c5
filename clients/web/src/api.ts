// The page's connection: the API is the page's own origin (the server
// serves both), and the key lives in localStorage.
import { Code, ConnectError, createSwitchboard, type Switchboard } from "@switchboard/sdk";

const KEY = "switchboard.apiKey";

export function storedKey(): string {
  try {
    return localStorage.getItem(KEY) ?? "";
  } catch {
    return "";
  }
}

export function storeKey(key: string): void {
  if (key) localStorage.setItem(KEY, key);
  else localStorage.removeItem(KEY);
}

/** Clients for every service, sending the stored key. */
export const api: Switchboard = createSwitchboard({
  baseUrl: window.location.origin,
  apiKey: storedKey,
});

/** An error in words: the server's message with its code. */
export function describeError(err: unknown): string {
  const ce = ConnectError.from(err);
  return `${ce.rawMessage || "request failed"} (${codeName(ce.code)})`;
}

export function codeName(code: Code): string {
  return (Code[code] ?? String(code))
    .replace(/([a-z])([A-Z])/g, "$1_$2")
    .toUpperCase();
}
