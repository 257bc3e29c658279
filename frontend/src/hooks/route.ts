// The current hash route, and navigation.

import { useSyncExternalStore } from "react";
import { href, parseRoute, type Route } from "../lib/route";

function subscribe(cb: () => void): () => void {
  window.addEventListener("hashchange", cb);
  return () => window.removeEventListener("hashchange", cb);
}

/** useHash returns location.hash and re-renders when it changes. */
export function useHash(): string {
  return useSyncExternalStore(subscribe, () => window.location.hash);
}

/** useRoute returns the parsed current route. */
export function useRoute(): Route {
  return parseRoute(useHash());
}

/** navigate goes to a route, adding a history entry (replace: without one). */
export function navigate(r: Route, replace = false): void {
  const h = href(r);
  if (window.location.hash === h) return;
  if (replace) window.history.replaceState(null, "", h);
  else window.location.hash = h;
  if (replace) window.dispatchEvent(new HashChangeEvent("hashchange"));
}
